"""All SQL behind the KPIs: counts and conditional sums aggregated in the database.

Every function takes a `Window` (the instants [start, end) an event must fall in to count) and
the group keys, and returns plain numbers keyed by the group's values (a tuple in `group_by`
order; `()` for the total). The same SQL runs on SQLite and PostgreSQL and gives the same
numbers there:

* durations are whole seconds, `floor(end) - floor(start)` on the epoch, on both engines;
  they leave the database as they are (`Samples`), for kpis/ to rank: sorting in the
  database (row_number() or an ordered aggregate) cost seconds over a month of orders, and
  a caller that merges groups into a total needs the values, not their percentiles;
* JSON answers (survey scores, problem codes) are unpacked with each engine's own table
  function, and only the counts per value leave the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from db.claims.models import ClaimRow
from db.complaints.models import ComplaintRow
from db.escalations.models import EscalationEvent, EscalationRow
from db.follow_ups.models import FollowUp
from db.orders.models import Order

Key = tuple[str | None, ...]
Samples = dict[tuple[Key, str], "np.ndarray"]  # (group, metric) -> seconds, unordered


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def holds(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)


class epoch_seconds(FunctionElement[int]):  # noqa: N801 (a SQL function, named like one)
    """Whole seconds since the epoch of a timestamp, truncated, on either engine."""

    type = Integer()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    # date_part is a double (EXTRACT a numeric, several times slower over a month of orders);
    # a double holds an epoch in microseconds exactly, so its floor is the same.
    return f"CAST(FLOOR(date_part('epoch', {compiler.process(arg, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(strftime('%s', {compiler.process(arg, **kw)}) AS INTEGER)"


class joined_ints(FunctionElement[str]):  # noqa: N801 (a SQL aggregate, named like one)
    """The group's integers as one comma-separated text, in no particular order."""

    type = String()
    inherit_cache = True


@compiles(joined_ints, "postgresql")
def _joined_pg(element: joined_ints, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"string_agg(CAST({compiler.process(arg, **kw)} AS TEXT), ',')"


@compiles(joined_ints, "sqlite")
def _joined_sqlite(element: joined_ints, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"group_concat({compiler.process(arg, **kw)}, ',')"


def _seconds(start: Any, end: Any) -> ColumnElement[int]:
    return epoch_seconds(end) - epoch_seconds(start)


# -- grouping ----------------------------------------------------------------------------------

def _group_columns(group_by: Sequence[str], own: dict[str, Any],
                   orders: FromClause | None) -> list[ColumnElement[Any]]:
    """The group-by expressions, labelled g0, g1...; a key the table lacks comes from orders."""
    via_orders = {"customer": Order.customer_id, "tier": Order.customer_tier,
                  "carrier": Order.carrier, "sla_policy": Order.sla_policy}
    out = []
    for i, key in enumerate(group_by):
        if key in own:
            column = own[key]
        else:
            assert orders is not None
            column = orders.c[via_orders[key].key]
        out.append(column.label(f"g{i}"))
    return out


def _needs_orders(group_by: Sequence[str], own: dict[str, Any]) -> bool:
    return any(key not in own for key in group_by)


def _key(row: Any, n: int) -> Key:
    return tuple(row[i] for i in range(n))


def _int(value: Any) -> int:
    return int(value or 0)


def _order_groups(group_by: Sequence[str]) -> list[ColumnElement[Any]]:
    own = {"customer": Order.customer_id, "tier": Order.customer_tier,
           "carrier": Order.carrier, "sla_policy": Order.sla_policy}
    return _group_columns(group_by, own, None)


def _joined(table: Any, own: dict[str, Any], order_id: Any,
            group_by: Sequence[str]) -> tuple[list[ColumnElement[Any]], FromClause]:
    """Group columns of `table`, outer-joined to its order when a key lives on the order."""
    if not _needs_orders(group_by, own):
        return _group_columns(group_by, own, None), table.__table__
    orders = Order.__table__
    source = table.__table__.outerjoin(orders, orders.c.order_id == order_id)
    return _group_columns(group_by, own, orders), source


def prepare_report(session: Session) -> None:
    """Settings for this transaction's report queries.

    PostgreSQL's JIT compiles the big month-wide aggregates for ~1 s each, far longer than
    they then run (tens of ms), so it is off. The planner sees the month's transitions (six
    correlated time ranges OR-ed) as ~40% of all orders and scans the whole table; they are
    ~10% and the table's pages are cached, which the SSD-like random_page_cost tells it, so it
    combines the time indexes instead. Both last only for the transaction (SET LOCAL).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


# -- durations ---------------------------------------------------------------------------------

def _samples(session: Session, rows: Select[Any], n_keys: int) -> Samples:
    """The seconds of `rows` (columns g0.., metric, secs) per group and metric, as arrays.

    Per group and metric one text of seconds leaves the database (a few hundred rows instead
    of one per duration), and is parsed in C; ranking is left to the caller, which can merge
    groups first.
    """
    sub = rows.subquery()
    parts = [sub.c[f"g{i}"] for i in range(n_keys)] + [sub.c.metric]
    q = select(*parts, joined_ints(sub.c.secs)).where(sub.c.secs.is_not(None)).group_by(*parts)
    return {(_key(row, n_keys), row[n_keys]): _parse_ints(row[n_keys + 1])
            for row in session.execute(q)}


def _parse_ints(joined: str) -> np.ndarray:
    return np.fromstring(joined, dtype=np.int64, sep=",")


# -- orders ------------------------------------------------------------------------------------

def _true(column: QueryableAttribute[bool | None]) -> ColumnElement[bool]:
    return column.is_(True)


@dataclass
class OrderFigures:
    """What a window's orders give, per group."""

    outcomes: dict[Key, tuple[int, int, int, int]]  # (due, on time, in full, OTIF), due > 0
    receipts: dict[Key, tuple[int, int]]  # (due, returned by the deadline), due > 0
    cycles: Samples  # (group, `a_to_b`) -> seconds


def order_figures(session: Session, w: Window, group_by: Sequence[str],
                  transitions: Sequence[tuple[str, str]]) -> OrderFigures:
    """In one pass over the orders with anything in the window:

    * outcomes of orders whose promise in force fell due in the window: due, on time, in
      full, OTIF. Cancelled orders never count; an order not delivered is neither on time nor
      in full;
    * receipts whose deadline fell in the window, and those returned by it;
    * per transition `a_to_b`, seconds of the transitions whose end fell in the window.

    The three select nearly the same orders (the month's), so reading them apart would read
    those orders three times over (a union per transition, nine).
    """
    groups = _order_groups(group_by)
    delivered = Order.delivered_at.is_not(None)
    due = and_(w.holds(Order.promised_delivery_by), Order.cancelled_at.is_(None))
    on_time = and_(due, delivered, _true(Order.on_time))
    in_full = and_(due, delivered, _true(Order.in_full))
    receipt_due = w.holds(Order.receipt_due_at)
    returned = and_(receipt_due, Order.receipt_archived_at.is_not(None),
                    Order.receipt_archived_at <= Order.receipt_due_at)
    counts = [func.sum(case((c, 1), else_=0))
              for c in (due, on_time, in_full, and_(on_time, _true(Order.in_full)),
                        receipt_due, returned)]
    names = [f"{a}_to_{b}" for a, b in transitions]
    durations = []
    ends = {b: w.holds(getattr(Order, f"{b}_at")) for _a, b in transitions}
    for a, b in transitions:
        start, end = getattr(Order, f"{a}_at"), getattr(Order, f"{b}_at")
        durations.append(case((and_(ends[b], start.is_not(None)), _seconds(start, end))))
    q = (select(*groups, *counts, *(joined_ints(d) for d in durations))
         .where(or_(w.holds(Order.promised_delivery_by), receipt_due, *ends.values()))
         .group_by(*groups))
    n = len(groups)
    out = OrderFigures({}, {}, {})
    for row in session.execute(q):
        key = _key(row, n)
        due_n, on_time_n, in_full_n, otif_n, receipts_n, returned_n = (
            _int(v) for v in row[n:n + 6])
        if due_n:
            out.outcomes[key] = (due_n, on_time_n, in_full_n, otif_n)
        if receipts_n:
            out.receipts[key] = (receipts_n, returned_n)
        for i, name in enumerate(names):
            joined = row[n + 6 + i]
            if joined is not None:  # NULLs are skipped, so NULL means none at all
                out.cycles[(key, name)] = _parse_ints(joined)
    return out


# -- follow-ups --------------------------------------------------------------------------------

_FOLLOW_UP_OWN = {"customer": FollowUp.customer_id, "tier": FollowUp.customer_tier,
                  "sla_policy": FollowUp.sla_policy}


def _follow_up_source(group_by: Sequence[str]) -> tuple[list[ColumnElement[Any]], FromClause]:
    return _joined(FollowUp, _FOLLOW_UP_OWN, FollowUp.order_id, group_by)


def follow_up_counts(session: Session, w: Window, group_by: Sequence[str]
                     ) -> dict[Key, dict[str, int]]:
    """Follow-ups that fell due in the window: due, attempted, answered, and per outcome
    (`outcome:answered|refused|expired|open`)."""
    groups, source = _follow_up_source(group_by)
    outcome = func.coalesce(FollowUp.outcome, "open").label("outcome")
    q = (select(*groups, outcome, func.count(),
                func.sum(case((_true(FollowUp.attempted), 1), else_=0)),
                func.sum(case((FollowUp.status == "answered", 1), else_=0)))
         .select_from(source).where(w.holds(FollowUp.due_at)).group_by(*groups, outcome))
    n = len(groups)
    out: dict[Key, dict[str, int]] = {}
    for r in session.execute(q):
        figures = out.setdefault(_key(r, n), {"due": 0, "attempted": 0, "answered": 0})
        figures["due"] += _int(r[n + 1])
        figures["attempted"] += _int(r[n + 2])
        figures["answered"] += _int(r[n + 3])
        figures[f"outcome:{r[n]}"] = figures.get(f"outcome:{r[n]}", 0) + _int(r[n + 1])
    return out


def _json_items(session: Session, column: Any, kind: str) -> tuple[Any, ColumnElement[bool]]:
    """A table function over a JSON object's (key, value) or an array's values, and the filter
    keeping rows whose JSON really is of that kind (a stored JSON null is not)."""
    if session.get_bind().dialect.name == "postgresql":
        if kind == "object":
            return (func.jsonb_each_text(column).table_valued("key", "value"),
                    func.jsonb_typeof(column) == "object")
        return (func.jsonb_array_elements_text(column).table_valued("value"),
                func.jsonb_typeof(column) == "array")
    names = ("key", "value") if kind == "object" else ("value",)
    return func.json_each(column).table_valued(*names), func.json_type(column) == kind


def survey_scores(session: Session, w: Window, group_by: Sequence[str]
                  ) -> dict[Key, dict[str, dict[int, int]]]:
    """Answered follow-ups due in the window: per question, how many gave each score."""
    groups, source = _follow_up_source(group_by)
    items, is_object = _json_items(session, FollowUp.scores, "object")
    score = cast(items.c.value, Integer)
    q = (select(*groups, items.c.key, score, func.count())
         .select_from(source).join(items, literal(True))
         .where(w.holds(FollowUp.due_at), FollowUp.status == "answered", is_object)
         .group_by(*groups, items.c.key, score))
    n = len(groups)
    out: dict[Key, dict[str, dict[int, int]]] = {}
    for r in session.execute(q):
        out.setdefault(_key(r, n), {}).setdefault(r[n], {})[int(r[n + 1])] = _int(r[n + 2])
    return out


def survey_problems(session: Session, w: Window, group_by: Sequence[str]
                    ) -> dict[Key, dict[str, int]]:
    """Answered follow-ups due in the window: how often each problem code was raised."""
    groups, source = _follow_up_source(group_by)
    items, is_array = _json_items(session, FollowUp.problems, "array")
    q = (select(*groups, items.c.value, func.count())
         .select_from(source).join(items, literal(True))
         .where(w.holds(FollowUp.due_at), is_array)
         .group_by(*groups, items.c.value))
    n = len(groups)
    out: dict[Key, dict[str, int]] = {}
    for r in session.execute(q):
        out.setdefault(_key(r, n), {})[str(r[n])] = _int(r[n + 1])
    return out


def survey_suggestions(session: Session, w: Window, group_by: Sequence[str]
                       ) -> dict[Key, dict[str, int]]:
    """Suggestions written in follow-ups due in the window, counted by their exact text."""
    groups, source = _follow_up_source(group_by)
    q = (select(*groups, FollowUp.suggestions, func.count())
         .select_from(source)
         .where(w.holds(FollowUp.due_at), FollowUp.suggestions.is_not(None),
                FollowUp.suggestions != "")
         .group_by(*groups, FollowUp.suggestions))
    n = len(groups)
    out: dict[Key, dict[str, int]] = {}
    for r in session.execute(q):
        out.setdefault(_key(r, n), {})[str(r[n])] = _int(r[n + 1])
    return out


# -- escalations -------------------------------------------------------------------------------

_ESCALATION_OWN = {"customer": EscalationRow.customer_id, "tier": EscalationRow.customer_tier}


def escalation_counts(session: Session, w: Window, group_by: Sequence[str]
                      ) -> dict[Key, list[tuple[int, str, str, int]]]:
    """Escalations opened in the window: (level reached, stage, kind, count) per group."""
    groups, source = _joined(EscalationRow, _ESCALATION_OWN, EscalationRow.order_id, group_by)
    dims = (EscalationRow.level, EscalationRow.stage, EscalationRow.kind)
    q = (select(*groups, *dims, func.count()).select_from(source)
         .where(w.holds(EscalationRow.opened_at)).group_by(*groups, *dims))
    n = len(groups)
    out: dict[Key, list[tuple[int, str, str, int]]] = {}
    for r in session.execute(q):
        out.setdefault(_key(r, n), []).append((int(r[n]), r[n + 1] or "none", r[n + 2],
                                                _int(r[n + 3])))
    return out


def escalation_durations(session: Session, w: Window, group_by: Sequence[str]
                         ) -> Samples:
    """time_to_acknowledge (opening to the first acknowledgement, which a climb does not
    undo) and time_to_resolve, for those that happened in the window."""
    # The first acknowledgement falls in the window when one does and none came before it:
    # only the window's acknowledgements are read, not every one ever made.
    ack, earlier = EscalationEvent, aliased(EscalationEvent)
    acked_before = (select(literal(1)).where(earlier.escalation_id == ack.escalation_id,
                                             earlier.action == "acknowledged",
                                             earlier.at < w.start).exists())
    first_ack = (select(ack.escalation_id.label("escalation_id"), func.min(ack.at).label("at"))
                 .where(ack.action == "acknowledged", w.holds(ack.at), ~acked_before)
                 .group_by(ack.escalation_id).subquery())
    groups, source = _joined(EscalationRow, _ESCALATION_OWN, EscalationRow.order_id, group_by)
    acked = (select(*groups, literal("time_to_acknowledge").label("metric"),
                    _seconds(EscalationRow.opened_at, first_ack.c.at).label("secs"))
             .select_from(source.join(first_ack, first_ack.c.escalation_id == EscalationRow.id)))
    resolved = (select(*groups, literal("time_to_resolve").label("metric"),
                       _seconds(EscalationRow.opened_at, EscalationRow.resolved_at).label("secs"))
                .select_from(source).where(w.holds(EscalationRow.resolved_at)))
    return _samples(session, select(union_all(acked, resolved).subquery()), len(groups))


# -- complaints --------------------------------------------------------------------------------

_COMPLAINT_OWN = {"customer": ComplaintRow.customer_id, "tier": ComplaintRow.customer_tier,
                  "sla_policy": ComplaintRow.sla_policy}


def _complaint_source(group_by: Sequence[str]) -> tuple[list[ColumnElement[Any]], FromClause]:
    return _joined(ComplaintRow, _COMPLAINT_OWN, ComplaintRow.order_id, group_by)


def complaints_opened(session: Session, w: Window, group_by: Sequence[str]) -> dict[Key, int]:
    groups, source = _complaint_source(group_by)
    q = (select(*groups, func.count()).select_from(source)
         .where(w.holds(ComplaintRow.opened_at)).group_by(*groups))
    n = len(groups)
    return {_key(r, n): _int(r[n]) for r in session.execute(q)}


def complaint_durations(session: Session, w: Window, group_by: Sequence[str]
                        ) -> Samples:
    """From acceptance to the first reply, and to resolution, for those done in the window."""
    groups, source = _complaint_source(group_by)
    parts = [select(*groups, literal(name).label("metric"),
                    _seconds(ComplaintRow.opened_at, end).label("secs"))
             .select_from(source).where(w.holds(end))
             for name, end in (("time_to_first_reply", ComplaintRow.first_reply_at),
                               ("time_to_resolution", ComplaintRow.resolved_at))]
    return _samples(session, select(union_all(*parts).subquery()), len(groups))


def complaint_scores(session: Session, w: Window, group_by: Sequence[str]
                     ) -> dict[Key, dict[int, int]]:
    """Satisfaction with the resolution given in the window: how many gave each score."""
    groups, source = _complaint_source(group_by)
    q = (select(*groups, ComplaintRow.satisfaction_score, func.count()).select_from(source)
         .where(w.holds(ComplaintRow.satisfaction_at),
                ComplaintRow.satisfaction_score.is_not(None))
         .group_by(*groups, ComplaintRow.satisfaction_score))
    n = len(groups)
    out: dict[Key, dict[int, int]] = {}
    for r in session.execute(q):
        out.setdefault(_key(r, n), {})[int(r[n])] = _int(r[n + 1])
    return out


# -- claims ------------------------------------------------------------------------------------

_CLAIM_OWN = {"customer": ClaimRow.customer_id, "tier": ClaimRow.customer_tier}


def claim_totals(session: Session, w: Window, group_by: Sequence[str]
                 ) -> dict[Key, list[tuple[str | None, str, str | None, int, int]]]:
    """Claims opened in the window: (liability, cause, currency, count, amount) per group; the
    amount sums the compensation set (minor units), currency is None where none is set."""
    groups, source = _joined(ClaimRow, _CLAIM_OWN, ClaimRow.order_id, group_by)
    currency = case((ClaimRow.amount_minor.is_not(None), ClaimRow.currency)).label("cur")
    dims = (ClaimRow.liability, ClaimRow.cause, currency)
    q = (select(*groups, *dims, func.count(), func.sum(ClaimRow.amount_minor))
         .select_from(source).where(w.holds(ClaimRow.opened_at)).group_by(*groups, *dims))
    n = len(groups)
    out: dict[Key, list[tuple[str | None, str, str | None, int, int]]] = {}
    for r in session.execute(q):
        out.setdefault(_key(r, n), []).append((r[n], r[n + 1], r[n + 2], _int(r[n + 3]),
                                                _int(r[n + 4])))
    return out
