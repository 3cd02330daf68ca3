"""Scheduled report activities: compute a period's figures and store them once.

A re-run for a period already stored keeps the first stored figures (a figure once reported
stays reproducible) and writes no new snapshot. For the monthly follow-up report it also
recomputes the month at the stored `as_of` and lists the figures that late events (rows
projected after the snapshot, about things before its `as_of`) would change; the report notice
then says so. The notice is written to the outbox in the snapshot's transaction and its key
includes a digest of those changes: a re-run with nothing new queues nothing new.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from config import Settings
from db import kpi_snapshots as repo
from db.engine import transaction
from db.notifications import Audience, Notice, NotificationEvent, enqueue
from kpis import KpiQuery, compute_kpis, follow_up_monthly
from kpis.late import changes
from kpis.periods import zone
from workflows.report_types import (
    PreviousPeriodInput,
    SnapshotResult,
    StoreDailyKpisInput,
    StoreFollowUpReportInput,
)

log = logging.getLogger("waybill.reports")

REPORT_TEAM = "customer_service"  # the managers' in-app copy of the monthly report
LATE_CHANGES_LISTED = 20  # in the message; the webhook payload carries them all


def _percent(rate: dict[str, Any]) -> str:
    value = rate.get("rate")
    if value is None:
        return "-"
    return f"{value * 100:.1f}% ({rate['numerator']}/{rate['denominator']})"


def _late_text(late: list[dict[str, Any]]) -> str:
    if not late:
        return "-"
    lines = [f"{c['figure']}: {c['reported']} -> {c['now']}" for c in late[:LATE_CHANGES_LISTED]]
    if len(late) > LATE_CHANGES_LISTED:
        lines.append(f"(+{len(late) - LATE_CHANGES_LISTED})")
    return "\n".join(lines)


def previous_day(now: datetime, tz: str) -> str:
    return (now.astimezone(zone(tz)).date() - timedelta(days=1)).isoformat()


def previous_month(now: datetime, tz: str) -> str:
    first = now.astimezone(zone(tz)).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


class ReportActivities:
    """Stores KPI snapshots; `sessions` reach the application database."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="report_previous_period")
    def previous_period(self, inp: PreviousPeriodInput) -> str:
        """The period a run fired at `now` reports: the business-zone day or month before."""
        tz = self._settings.business_timezone
        if inp.unit == "day":
            return previous_day(inp.now, tz)
        if inp.unit == "month":
            return previous_month(inp.now, tz)
        raise ApplicationError(f"unknown period unit {inp.unit!r}", type="UnknownPeriodUnit",
                               non_retryable=True)

    @activity.defn(name="store_daily_kpis")
    def store_daily_kpis(self, inp: StoreDailyKpisInput) -> SnapshotResult:
        tz = zone(self._settings.business_timezone)
        day = date.fromisoformat(inp.day)
        start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
        stop = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
        with transaction(self._sessions) as session:
            report = compute_kpis(session, KpiQuery(from_=start, to=stop, as_of=inp.as_of), tz)
            row, created = repo.store_first(
                session, repo.SnapshotKind.DAILY_KPIS, inp.day, datetime.now(UTC),
                report.period.as_of, str(tz), report.to_json())
            result = SnapshotResult(kind=row.kind, period_key=row.period_key, created=created,
                                    as_of=row.as_of)
        log.info("daily kpi snapshot", extra={"day": inp.day, "created": created})
        return result

    @activity.defn(name="store_follow_up_report")
    def store_follow_up_report(self, inp: StoreFollowUpReportInput) -> SnapshotResult:
        tz = zone(self._settings.business_timezone)
        kind = repo.SnapshotKind.FOLLOW_UP_MONTHLY
        with transaction(self._sessions) as session:
            stored = repo.get(session, kind, inp.month)
            as_of = stored.as_of if stored else inp.as_of
            report = follow_up_monthly(session, inp.month, tz, as_of).to_json()
            row, created = repo.store_first(session, kind, inp.month, datetime.now(UTC),
                                            as_of, str(tz), report)
            late = [] if created else changes(row.body, report)
            outbox_ids = enqueue(session, [self._notice(inp.month, row.body, late)])
            result = SnapshotResult(kind=row.kind, period_key=row.period_key, created=created,
                                    as_of=row.as_of, late_changes=late, outbox_ids=outbox_ids)
        log.info("follow-up monthly report", extra={
            "month": inp.month, "created": created, "late_changes": len(late),
            "notifications": len(outbox_ids)})
        return result

    @staticmethod
    def _notice(month: str, body: dict[str, Any], late: list[dict[str, Any]]) -> Notice:
        digest = hashlib.sha256(json.dumps(late, sort_keys=True, default=str).encode()
                                ).hexdigest()[:16]
        total = body["total"]
        satisfaction = total["overall_satisfaction"]
        return Notice(
            key=f"{NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value}:{month}:{digest}",
            event_type=NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value,
            audience=Audience.STAFF.value, order_id=None, locale="zh-CN", teams=[REPORT_TEAM],
            data={"month": month, "due": total["due"], "attempted": total["attempted"],
                  "answered": total["answered"],
                  "follow_up_rate": _percent(total["follow_up_rate"]),
                  "successful_follow_up_rate": _percent(total["successful_follow_up_rate"]),
                  "satisfaction": "-" if satisfaction["mean"] is None
                  else f"{satisfaction['mean']:.2f} ({satisfaction['count']})",
                  "late_change_count": len(late), "late_changes": _late_text(late),
                  "late_change_list": late, "report": body})
