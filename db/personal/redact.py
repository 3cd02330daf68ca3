"""Redacting a closed order's personal data (issue 17 §6), in the caller's transaction.

What is redacted: every value of the inventory (db/personal/fields.py) in the order's mutable
rows (overwritten with REDACTED), and the personal values its chained rows' placeholders name
(value and salt deleted from `personal_values`; the placeholders and so the chain stay). Then
one chained order event, `personal_data_redacted`, records it. A complaint with no order is
redacted the same way, its event in its own chain.

Rows chained before migration 0017 hold their values inline and cannot be rewritten (the chain
would break, and PostgreSQL refuses the UPDATE): they are counted, not changed (README).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, not_, or_, select, update
from sqlalchemy.orm import Session

from db.audit import canonical
from db.audit.chain import insert_linked
from db.audit.queries import COMPLAINT_PREFIX, chain_mappings, links_of
from db.claims.models import ClaimRow
from db.complaints.models import ComplaintEvent, ComplaintRow
from db.escalations.models import EscalationRow
from db.follow_ups.models import FollowUp
from db.notifications.models import InboxItem, OutboxRow
from db.orders.models import Order, OrderEvent
from db.personal import placeholders
from db.personal.fields import MUTABLE, MUTABLE_OBJECTS, REDACTED, REDACTED_OBJECT
from db.personal.models import PersonalValue
from db.personal.overwrite import redact_columns

EVENT_ID = "personal-data-redacted"
EVENT_TYPE = "personal_data_redacted"
SYSTEM = "system"
RETENTION_SOURCE = "retention"

# Why a closed order may not be redacted yet: the error codes of the erasure request.
ORDER_OPEN = "order_open"  # neither closed nor cancelled
CASE_OPEN = "case_open"  # one of its claims or complaints is still open


@dataclass(frozen=True)
class Redacted:
    """What one redaction did: `values` overwritten or deleted, `inline_kept` personal values
    in rows chained before migration 0017, left as they are. `already`: it was redacted before,
    nothing was done."""

    subject: str
    values: int = 0
    inline_kept: int = 0
    already: bool = False


def _ended(row: Order) -> datetime | None:
    return row.closed_at or row.cancelled_at


def closed_since(session: Session, order_id: str) -> tuple[datetime | None, str | None]:
    """(since when the order and all its cases are closed, None) or (None, why not: ORDER_OPEN
    or CASE_OPEN). The order must exist."""
    order = session.get(Order, order_id)
    assert order is not None
    ended = _ended(order)
    if ended is None:
        return None, ORDER_OPEN
    times: list[datetime | None] = [ended]
    times += session.scalars(select(ClaimRow.closed_at).where(ClaimRow.order_id == order_id))
    times += session.scalars(select(ComplaintRow.closed_at)
                             .where(ComplaintRow.order_id == order_id))
    if any(t is None for t in times):
        return None, CASE_OPEN
    return max(t for t in times if t is not None), None


def is_redacted(session: Session, order_id: str) -> bool:
    return session.scalar(select(OrderEvent.id).where(
        OrderEvent.order_id == order_id, OrderEvent.event_id == EVENT_ID)) is not None


def due_orders(session: Session, cutoff: datetime, limit: int) -> list[str]:
    """Up to `limit` orders not yet redacted, closed or cancelled by `cutoff`, whose claims and
    complaints were all closed by `cutoff` too; oldest first."""
    ended = func.coalesce(Order.closed_at, Order.cancelled_at)
    open_claim = exists().where(ClaimRow.order_id == Order.order_id,
                                or_(ClaimRow.closed_at.is_(None), ClaimRow.closed_at > cutoff))
    open_complaint = exists().where(ComplaintRow.order_id == Order.order_id,
                                    or_(ComplaintRow.closed_at.is_(None),
                                        ComplaintRow.closed_at > cutoff))
    done = exists().where(OrderEvent.order_id == Order.order_id, OrderEvent.event_id == EVENT_ID)
    return list(session.scalars(
        select(Order.order_id).where(ended.is_not(None), ended <= cutoff, not_(open_claim),
                                     not_(open_complaint), not_(done))
        .order_by(ended, Order.order_id).limit(limit)))


def due_complaints(session: Session, cutoff: datetime, limit: int) -> list[str]:
    """Up to `limit` complaints with no order, closed by `cutoff`, not yet redacted."""
    done = exists().where(ComplaintEvent.complaint_id == ComplaintRow.id,
                          ComplaintEvent.event_id == EVENT_ID)
    return list(session.scalars(
        select(ComplaintRow.id).where(ComplaintRow.order_id.is_(None),
                                      ComplaintRow.closed_at.is_not(None),
                                      ComplaintRow.closed_at <= cutoff, not_(done))
        .order_by(ComplaintRow.closed_at, ComplaintRow.id).limit(limit)))


def _redact_rows(session: Session, model: Any, where: Any, key: str,
                 extra: dict[str, Any] | None = None) -> int:
    """Overwrite the inventory's paths of `model`'s rows matching `where`; returns how many
    values changed. Rows are read and written by primary key, columns that changed only."""
    table = model.__table__
    name = table.name
    paths, objects = MUTABLE.get(name, ()), MUTABLE_OBJECTS.get(name, ())
    cols = sorted({p.split(".")[0].removesuffix("[]") for p in paths + objects}
                  | set(extra or {}) | {cond for cond, _ in (extra or {}).values()})
    count = 0
    for row in session.execute(select(table.c[key], *(table.c[c] for c in cols)).where(where)
                               ).mappings():
        changed, n = redact_columns(dict(row), paths)
        for col in objects:
            if row[col] is not None and row[col] != REDACTED_OBJECT:
                changed[col], n = REDACTED_OBJECT, n + 1
        for col, (cond_col, cond_value) in (extra or {}).items():
            if row[cond_col] == cond_value and row[col] not in (None, REDACTED):
                changed[col], n = REDACTED, n + 1
        if changed:
            session.execute(update(table).where(table.c[key] == row[key]).values(**changed))
            count += n
    return count


def _redact_side(session: Session, chain: str, now: datetime) -> int:
    result = session.execute(
        update(PersonalValue).where(PersonalValue.chain == chain,
                                    PersonalValue.redacted_at.is_(None))
        .values(value=None, salt=None, redacted_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def _inline(session: Session, chain: str) -> int:
    mappings = chain_mappings(session, chain, links_of(session, chain))
    return sum(placeholders.inline_count(table, m) for (table, _), m in mappings.items())


def redact_order(session: Session, order_id: str, now: datetime, *, days: int | None,
                 actor: str = SYSTEM, source: str = RETENTION_SOURCE) -> Redacted:
    """Redact the order's personal data and record it (one chained order event). Checks
    nothing about closing (the caller did, `closed_since`); an order redacted before is left."""
    # Lock the order row: a projection of the order (a late claim) waits, and two redactions
    # of one order (the schedule and an erasure request) do not both record one.
    session.execute(select(Order.order_id).where(Order.order_id == order_id).with_for_update())
    if is_redacted(session, order_id):
        return Redacted(order_id, already=True)
    values = _redact_rows(session, Order, Order.order_id == order_id, "order_id")
    values += _redact_rows(session, FollowUp, FollowUp.order_id == order_id, "order_id")
    values += _redact_rows(session, ClaimRow, ClaimRow.order_id == order_id, "id")
    values += _redact_rows(session, ComplaintRow, ComplaintRow.order_id == order_id, "id")
    values += _redact_rows(session, EscalationRow, EscalationRow.order_id == order_id, "id")
    values += _redact_rows(session, OutboxRow, OutboxRow.order_id == order_id, "id",
                           {"recipient": ("audience", "customer")})
    values += _redact_rows(session, InboxItem, InboxItem.order_id == order_id, "id")
    values += _redact_side(session, order_id, now)
    inline = _inline(session, order_id)
    insert_linked(session, order_id, OrderEvent.__table__, [{
        "order_id": order_id, "event_id": EVENT_ID, "type": EVENT_TYPE, "occurred_at": now,
        "recorded_at": now, "actor": actor, "source": source, "body_hash": None,
        "data": _data(days, values, inline)}])
    return Redacted(order_id, values, inline)


def redact_complaint(session: Session, complaint_id: str, now: datetime, *, days: int | None,
                     actor: str = SYSTEM, source: str = RETENTION_SOURCE) -> Redacted:
    """Redact a complaint with no order, as `redact_order` does an order."""
    session.execute(select(ComplaintRow.id).where(ComplaintRow.id == complaint_id)
                    .with_for_update())
    chain = canonical.complaint_chain(None, complaint_id)
    if session.scalar(select(ComplaintEvent.id).where(
            ComplaintEvent.complaint_id == complaint_id,
            ComplaintEvent.event_id == EVENT_ID)) is not None:
        return Redacted(chain, already=True)
    values = _redact_rows(session, ComplaintRow, ComplaintRow.id == complaint_id, "id")
    values += _redact_rows(session, EscalationRow,
                           and_(EscalationRow.order_id == "", EscalationRow.subject == chain),
                           "id")
    values += _redact_side(session, chain, now)
    inline = _inline(session, chain)
    insert_linked(session, chain, ComplaintEvent.__table__, [{
        "complaint_id": complaint_id, "event_id": EVENT_ID, "type": EVENT_TYPE,
        "occurred_at": now, "recorded_at": now, "actor": actor, "source": source,
        "body_hash": None, "data": _data(days, values, inline)}])
    return Redacted(chain, values, inline)


def redact_late_values(session: Session, cutoff: datetime, now: datetime) -> int:
    """Delete the kept values stored by `cutoff` in chains already redacted: what was written
    about an order after its redaction (a note added to a closed order) goes once it is as old
    as the period. Its chain's redaction event already records that the order's personal data
    is redacted; this adds no event. Returns how many values."""
    redacted_orders = select(OrderEvent.order_id).where(OrderEvent.event_id == EVENT_ID)
    redacted_complaints = select(literal(COMPLAINT_PREFIX) + ComplaintEvent.complaint_id) \
        .where(ComplaintEvent.event_id == EVENT_ID)
    result = session.execute(
        update(PersonalValue).where(
            PersonalValue.redacted_at.is_(None), PersonalValue.created_at <= cutoff,
            or_(PersonalValue.chain.in_(redacted_orders),
                PersonalValue.chain.in_(redacted_complaints)))
        .values(value=None, salt=None, redacted_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def _data(days: int | None, values: int, inline: int) -> dict[str, Any]:
    # retention_days None: an erasure request, not the retention period.
    return {"retention_days": days, "values": values, "inline_kept": inline}
