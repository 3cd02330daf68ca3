"""All SQL about claims and their timelines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.audit.chain import insert_linked
from db.claims.models import ClaimEvent, ClaimRow
from db.escalations.subjects import escalated_to
from db.personal import queries as personal
from db.personal.fields import CLAIM_EVENTS
from db.upsert import upsert_newer
from workflows.claim.types import ClaimProjection, ClaimStep

STEP_COLUMNS = {step.value: f"{step.value}_at" for step in ClaimStep}


@dataclass
class ClaimFilter:
    state: str | None = None
    step: str | None = None
    order_id: str | None = None
    customer_id: str | None = None
    cause: str | None = None
    liability: str | None = None
    # The console's queue filters (issue 18 §1): the customer's tier; open and past its
    # awaited step's deadline at `overdue_at`; the assignee of its open step escalation.
    tier: str | None = None
    overdue_at: datetime | None = None
    assignee: str | None = None


def get_claim(session: Session, claim_id: str) -> ClaimRow | None:
    return session.get(ClaimRow, claim_id)


def list_claims(session: Session, flt: ClaimFilter, limit: int,
                after: tuple[datetime, str] | None,
                urgent_first: bool = False) -> list[ClaimRow]:
    """Newest first, keyset-paginated on (opened_at, id); or with `urgent_first` (the
    console's open claims) the soonest due first, those without a deadline last, unpaged."""
    q = select(ClaimRow)
    for column, value in ((ClaimRow.state, flt.state), (ClaimRow.step, flt.step),
                          (ClaimRow.order_id, flt.order_id),
                          (ClaimRow.customer_id, flt.customer_id), (ClaimRow.cause, flt.cause),
                          (ClaimRow.liability, flt.liability),
                          (ClaimRow.customer_tier, flt.tier)):
        if value is not None:
            q = q.where(column == value)
    if flt.overdue_at is not None:
        q = q.where(ClaimRow.state == "open", ClaimRow.due_at < flt.overdue_at)
    if flt.assignee is not None:
        q = q.where(ClaimRow.id.in_(escalated_to(flt.assignee, "claim")))
    if urgent_first:
        return list(session.scalars(q.order_by(ClaimRow.due_at.is_(None), ClaimRow.due_at,
                                               ClaimRow.id).limit(limit)))
    if after:
        opened, claim_id = after
        q = q.where(or_(ClaimRow.opened_at < opened,
                        and_(ClaimRow.opened_at == opened, ClaimRow.id < claim_id)))
    q = q.order_by(ClaimRow.opened_at.desc(), ClaimRow.id.desc()).limit(limit)
    return list(session.scalars(q))


def timeline(session: Session, claim_id: str) -> list[ClaimEvent]:
    return personal.reveal(session, CLAIM_EVENTS, list(session.scalars(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim_id).order_by(ClaimEvent.seq))))


def find_event(session: Session, claim_id: str, event_id: str) -> ClaimEvent | None:
    row = session.scalar(select(ClaimEvent).where(ClaimEvent.claim_id == claim_id,
                                                  ClaimEvent.event_id == event_id))
    return None if row is None else personal.reveal(session, CLAIM_EVENTS, [row])[0]


def next_claim_number(session: Session, order_id: str) -> int:
    """One more than the highest `{order_id}-CL{n}` recorded for the order."""
    pattern = re.compile(rf"^{re.escape(order_id)}-CL(\d+)$")
    numbers = [int(m.group(1)) for claim_id in session.scalars(
        select(ClaimRow.id).where(ClaimRow.order_id == order_id))
        if (m := pattern.match(claim_id))]
    return max(numbers, default=0) + 1


def apply_claim_projection(session: Session, inp: ClaimProjection) -> None:
    """Idempotent: entries keyed by (claim, seq); the row only moves to a newer snapshot.
    An entry inserted is linked to the order's audit chain."""
    s = inp.status
    if inp.entries:
        rows = [{"claim_id": s.claim_id, "seq": e.seq, "event_id": e.event_id, "type": e.type,
                 "at": e.at, "occurred_at": e.occurred_at, "actor": e.actor,
                 "source": e.source, "data": to_jsonable_python(e.data),
                 "body_hash": e.body_hash} for e in inp.entries]
        insert_linked(session, s.order_id, ClaimEvent.__table__, rows)
    values: dict[str, Any] = {
        "state": s.state.value, "step": s.step.value,
        "awaiting": s.awaiting.value if s.awaiting else None, "due_at": s.due_at,
        "breached": bool(s.breaches),
        "liability": s.liability.value if s.liability else None,
        "amount_minor": s.amount_minor, "currency": s.currency, "cap_minor": s.cap_minor,
        "cap_basis": s.cap_basis, "weight_kg": s.weight_kg,
        "declared_value_minor": s.declared_value_minor, "override_reason": s.override_reason,
        "override_by": s.override_by, "voucher": s.voucher,
        "outcome": s.outcome.value if s.outcome else None,
        **{col: s.step_times.get(step) for step, col in STEP_COLUMNS.items()
           if step != ClaimStep.OPENED.value},
        "detail": to_jsonable_python({
            "description": s.description, "customer": s.customer, "deadlines": s.deadlines,
            "documents": s.documents, "breaches": s.breaches,
            "order_stage": s.order_stage, "basis_changes": s.basis_changes}),
        "updated_seq": s.seq,
    }
    row = {"id": s.claim_id, "order_id": s.order_id, "customer_id": s.customer.id,
           "customer_tier": s.customer.tier.value, "cause": s.cause.value, "origin": s.origin,
           "opened_by": s.opened_by, "opened_at": s.opened_at, **values}
    upsert_newer(session, ClaimRow.__table__, row, "id", tuple(values), "updated_seq")
