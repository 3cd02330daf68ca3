"""What the console's monthly follow-up report page (回访月报) shows: the month's report as first
reported, if the monthly schedule stored it (db/kpis/snapshots.py), with the figures late events
have changed since; else the report computed now. Customers are named from their orders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.kpis import snapshots
from db.orders.models import Order
from kpis import follow_up_monthly
from kpis.follow_up_report import problems_only
from kpis.late import figures
from kpis.periods import month_bounds, zone

_IDS_PER_QUERY = 500  # well under any database's limit of bound parameters


@dataclass
class ReportPage:
    month: str
    body: dict[str, Any]  # a FollowUpReport's JSON
    as_of: datetime
    reported_at: datetime | None = None  # when it was stored; None: computed for this page
    late: list[dict[str, Any]] = field(default_factory=list)  # kpis.late.figures since then
    names: dict[str, str] = field(default_factory=dict)  # customer id -> name


def shift(month: str, by: int) -> str:
    """The month `by` months from `month` (YYYY-MM, already checked)."""
    n = int(month[:4]) * 12 + int(month[5:7]) - 1 + by
    return date(n // 12, n % 12 + 1, 1).strftime("%Y-%m")


def check(month: str, tz: ZoneInfo) -> None:
    """PeriodError("invalid_month") unless `month` is YYYY-MM."""
    month_bounds(month, tz)


def customer_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Each customer's name on their newest order: a renamed customer reads as now named."""
    wanted, names = sorted(set(ids)), {}
    for i in range(0, len(wanted), _IDS_PER_QUERY):
        ranked = select(Order.customer_id, Order.customer, func.row_number().over(
            partition_by=Order.customer_id,
            order_by=(Order.received_at.desc(), Order.created_at.desc(), Order.order_id.desc()),
        ).label("n")).where(Order.customer_id.in_(wanted[i:i + _IDS_PER_QUERY])).subquery()
        for customer_id, customer in session.execute(
                select(ranked.c.customer_id, ranked.c.customer).where(ranked.c.n == 1)):
            name = (customer or {}).get("name")
            if name:
                names[customer_id] = str(name)
    return names


def build(session: Session, month: str, tz: ZoneInfo, now: datetime,
          as_of: datetime | None = None) -> ReportPage:
    """The stored report of `month` if there is one, unless `as_of` asks for the figures known
    at that instant (the downloads of a live page: the same figures the page showed)."""
    row = None if as_of else snapshots.get(session, snapshots.SnapshotKind.FOLLOW_UP_MONTHLY,
                                           month)
    if row is not None:
        # Recomputed as the monthly run does (activities/reports/snapshots.py): at the stored
        # as_of, in the stored zone, so only events that reached us later can differ.
        again = follow_up_monthly(session, month, zone(row.timezone), row.as_of).to_json()
        stored = problems_only(row.body)  # stored before suggestions stopped being problems
        page = ReportPage(month=month, body=stored, as_of=row.as_of,
                          reported_at=row.computed_at, late=figures(stored, again))
    else:
        taken = as_of or now
        page = ReportPage(month=month, body=follow_up_monthly(session, month, tz, taken).to_json(),
                          as_of=taken)
    page.names = customer_names(session, (g["key"] for g in page.body["by_customer"]))
    return page
