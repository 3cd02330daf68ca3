"""The KPI aggregates of orders: OTIF outcomes, receipt returns and stage cycle times, read in
one pass over the window's orders (see db/kpis/window.py for what every aggregate shares)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from db.kpis.window import (
    ORDER_KEYS,
    Key,
    Samples,
    Window,
    as_int,
    group_columns,
    is_true,
    joined_ints,
    key_of,
    parse_ints,
    seconds,
)
from db.orders.models import Order


def otif_conditions(w: Window) -> tuple[ColumnElement[bool], ColumnElement[bool],
                                        ColumnElement[bool], ColumnElement[bool]]:
    """(due, on time, in full, OTIF) as conditions on one order: the definition in kpis/otif.py
    (THE definition of OTIF; read it first, and change the two together), in SQL.

    Due: its promise in force fell in the window and it was not cancelled. On time and in full
    are the order's own flags (set by the order workflow at delivery) on a due, delivered order;
    OTIF is both.
    """
    delivered = Order.delivered_at.is_not(None)
    due = and_(w.holds(Order.promised_delivery_by), Order.cancelled_at.is_(None))
    on_time = and_(due, delivered, is_true(Order.on_time))
    in_full = and_(due, delivered, is_true(Order.in_full))
    return due, on_time, in_full, and_(on_time, is_true(Order.in_full))


@dataclass
class OrderFigures:
    """What a window's orders give, per group."""

    outcomes: dict[Key, tuple[int, int, int, int]]  # (due, on time, in full, OTIF), due > 0
    receipts: dict[Key, tuple[int, int]]  # (due, returned by the deadline), due > 0
    cycles: Samples  # (group, `a_to_b`) -> seconds


def order_figures(session: Session, w: Window, group_by: Sequence[str],
                  transitions: Sequence[tuple[str, str]]) -> OrderFigures:
    """In one pass over the orders with anything in the window:

    * outcomes (`otif_conditions`) of orders whose promise in force fell due in the window:
      due, on time, in full, OTIF;
    * receipts whose deadline fell in the window, and those returned by it;
    * per transition `a_to_b`, seconds of the transitions whose end fell in the window.

    The three select nearly the same orders (the month's), so reading them apart would read
    those orders three times over (a union per transition, nine).
    """
    groups = group_columns(group_by, ORDER_KEYS, None)
    receipt_due = w.holds(Order.receipt_due_at)
    returned = and_(receipt_due, Order.receipt_archived_at.is_not(None),
                    Order.receipt_archived_at <= Order.receipt_due_at)
    counts = [func.sum(case((c, 1), else_=0))
              for c in (*otif_conditions(w), receipt_due, returned)]
    names = [f"{a}_to_{b}" for a, b in transitions]
    durations = []
    ends = {b: w.holds(getattr(Order, f"{b}_at")) for _a, b in transitions}
    for a, b in transitions:
        start, end = getattr(Order, f"{a}_at"), getattr(Order, f"{b}_at")
        durations.append(case((and_(ends[b], start.is_not(None)), seconds(start, end))))
    q = (select(*groups, *counts, *(joined_ints(d) for d in durations))
         .where(or_(w.holds(Order.promised_delivery_by), receipt_due, *ends.values()))
         .group_by(*groups))
    n = len(groups)
    out = OrderFigures({}, {}, {})
    for row in session.execute(q):
        key = key_of(row, n)
        due_n, on_time_n, in_full_n, otif_n, receipts_n, returned_n = (
            as_int(v) for v in row[n:n + 6])
        if due_n:
            out.outcomes[key] = (due_n, on_time_n, in_full_n, otif_n)
        if receipts_n:
            out.receipts[key] = (receipts_n, returned_n)
        for i, name in enumerate(names):
            joined = row[n + 6 + i]
            if joined is not None:  # NULLs are skipped, so NULL means none at all
                out.cycles[(key, name)] = parse_ints(joined)
    return out
