"""All SQL about complaints and their timelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.audit.canonical import complaint_chain
from db.audit.chain import insert_linked
from db.complaints.models import ComplaintEvent, ComplaintRow
from db.escalations.models import EscalationRow
from db.escalations.subjects import escalated_to
from db.personal import queries as personal
from db.personal.fields import COMPLAINT_EVENTS
from db.upsert import upsert_newer
from policies import snapshot
from workflows.complaint.types import (
    ComplaintEntry,
    ComplaintProjection,
    ComplaintStatus,
    ComplaintStep,
)


@dataclass
class ComplaintFilter:
    step: str | None = None
    customer_id: str | None = None
    order_id: str | None = None
    department: str | None = None
    origin: str | None = None
    category: str | None = None
    breached: bool | None = None
    # The console's queue filters (issue 18 §1): open (not closed) or closed; the customer's
    # tier; open and past its awaited step's deadline at `overdue_at`; who has it: the
    # department it is routed to, or the assignee of its open step escalation.
    state: str | None = None
    tier: str | None = None
    overdue_at: datetime | None = None
    assignee: str | None = None


def get_complaint(session: Session, complaint_id: str) -> ComplaintRow | None:
    return session.get(ComplaintRow, complaint_id)


def list_complaints(session: Session, flt: ComplaintFilter, limit: int,
                    after: tuple[datetime, str] | None,
                    urgent_first: bool = False) -> list[ComplaintRow]:
    """Newest first, keyset-paginated on (opened_at, id); or with `urgent_first` (the
    console's open complaints) the soonest due first, those without a deadline last, unpaged."""
    q = select(ComplaintRow)
    for column, value in ((ComplaintRow.step, flt.step),
                          (ComplaintRow.customer_id, flt.customer_id),
                          (ComplaintRow.order_id, flt.order_id),
                          (ComplaintRow.department, flt.department),
                          (ComplaintRow.origin, flt.origin),
                          (ComplaintRow.category, flt.category),
                          (ComplaintRow.breached, flt.breached),
                          (ComplaintRow.customer_tier, flt.tier)):
        if value is not None:
            q = q.where(column == value)
    if flt.state is not None:
        closed = ComplaintRow.step == ComplaintStep.CLOSED.value
        q = q.where(closed if flt.state == "closed" else ~closed)
    if flt.overdue_at is not None:
        q = q.where(ComplaintRow.step != ComplaintStep.CLOSED.value,
                    ComplaintRow.due_at < flt.overdue_at)
    if flt.assignee is not None:
        q = q.where(or_(ComplaintRow.department == flt.assignee,
                        ComplaintRow.id.in_(escalated_to(flt.assignee, "complaint"))))
    if urgent_first:
        return list(session.scalars(q.order_by(ComplaintRow.due_at.is_(None),
                                               ComplaintRow.due_at, ComplaintRow.id)
                                    .limit(limit)))
    if after:
        opened, key = after
        q = q.where(or_(ComplaintRow.opened_at < opened,
                        and_(ComplaintRow.opened_at == opened, ComplaintRow.id < key)))
    q = q.order_by(ComplaintRow.opened_at.desc(), ComplaintRow.id.desc()).limit(limit)
    return list(session.scalars(q))


def find_event(session: Session, complaint_id: str, event_id: str) -> ComplaintEvent | None:
    row = session.scalar(select(ComplaintEvent).where(
        ComplaintEvent.complaint_id == complaint_id, ComplaintEvent.event_id == event_id))
    return None if row is None else personal.reveal(session, COMPLAINT_EVENTS, [row])[0]


def timeline(session: Session, complaint_id: str) -> list[ComplaintEvent]:
    return personal.reveal(session, COMPLAINT_EVENTS, list(session.scalars(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(ComplaintEvent.occurred_at, ComplaintEvent.recorded_at, ComplaintEvent.id))))


def escalations(session: Session, complaint_id: str) -> list[EscalationRow]:
    """The escalations its missed deadlines opened, oldest first."""
    return list(session.scalars(
        select(EscalationRow).where(EscalationRow.subject == f"complaint:{complaint_id}")
        .order_by(EscalationRow.opened_at, EscalationRow.id)))


def add_entries(session: Session, complaint_id: str, order_id: str | None,
                entries: list[ComplaintEntry]) -> None:
    """Append entries; an entry already stored (same event id) is left as it is. Each entry
    inserted is linked to the audit chain of the order (or of the complaint, without one)."""
    if not entries:
        return
    rows = [{"complaint_id": complaint_id, "event_id": e.event_id, "type": e.type,
             "occurred_at": e.occurred_at, "recorded_at": e.recorded_at, "actor": e.actor,
             "source": e.source, "data": to_jsonable_python(e.data), "body_hash": e.body_hash}
            for e in entries]
    insert_linked(session, complaint_chain(order_id, complaint_id), ComplaintEvent.__table__, rows)


def _dynamic(s: ComplaintStatus) -> dict[str, Any]:
    """The columns a projection moves (everything but what acceptance fixed)."""
    return {
        "category": s.category, "department": s.department, "step": s.step.value,
        "routed_at": s.routed_at, "first_reply_at": s.first_reply_at, "reply": s.reply,
        "plan": s.plan, "promised_by": s.promised_by, "resolved_at": s.resolved_at,
        "resolution": s.resolution, "satisfaction_requested_at": s.satisfaction_requested_at,
        "satisfaction_outcome": s.satisfaction_outcome,
        "satisfaction_score": s.satisfaction_score,
        "satisfaction_comment": s.satisfaction_comment, "satisfaction_at": s.satisfaction_at,
        "closed_at": s.closed_at, "deadlines": to_jsonable_python(s.deadlines),
        "due_kind": s.due_kind, "due_at": s.due_at, "breached": bool(s.breaches),
        "breaches": to_jsonable_python(s.breaches), "updated_at": datetime.now(UTC),
        "updated_seq": s.seq,
    }


def row_for(s: ComplaintStatus, create_hash: str | None) -> dict[str, Any]:
    """Every column of a complaint's row: what acceptance fixed, then the current state."""
    return {
        "id": s.complaint_id, "order_id": s.order_id, "customer_id": s.customer.id,
        "customer_tier": s.customer.tier.value, "customer": to_jsonable_python(s.customer),
        "origin": s.origin, "description": s.description,
        "survey": to_jsonable_python(s.survey), "order_stage": s.order_stage.value
        if s.order_stage else None, "sla_policy": s.policy.name,
        "sla_policy_version": s.policy.version, "sla_policy_snapshot": snapshot(s.policy),
        "opened_at": s.opened_at, "create_hash": create_hash, "created_by": s.created_by,
        "created_by_role": s.created_by_role, **_dynamic(s)}


def add_complaint(session: Session, s: ComplaintStatus, create_hash: str,
                  entries: list[ComplaintEntry]) -> None:
    """The row and its first entries as the API accepts it, before its workflow starts.

    Raises:
        IntegrityError: a complaint with this id exists.
    """
    session.add(ComplaintRow(**row_for(s, create_hash)))
    session.flush()
    add_entries(session, s.complaint_id, s.order_id, entries)


def apply_complaint_projection(session: Session, inp: ComplaintProjection) -> None:
    """Idempotent: entries keyed by (complaint, event id); the row only moves to a newer
    snapshot. The first projection also inserts the row, so a complaint another workflow
    opened is listed at once."""
    s = inp.status
    add_entries(session, s.complaint_id, s.order_id, inp.entries)
    row = row_for(s, None)
    upsert_newer(session, ComplaintRow.__table__, row, "id", tuple(_dynamic(s)), "updated_seq")
