"""All SQL about escalations and their ladder history."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit.canonical import escalation_chain
from db.audit.chain import insert_linked
from db.escalations.models import EscalationEvent, EscalationRow
from db.personal import queries as personal
from db.personal.fields import ESCALATION_EVENTS
from db.upsert import upsert_newer
from workflows.escalation.types import EscalationProjection


@dataclass
class EscalationFilter:
    state: str | None = None
    level: int | None = None
    stage: str | None = None
    kind: str | None = None
    customer_id: str | None = None
    tier: str | None = None
    assignee: str | None = None
    order_id: str | None = None


def list_escalations(session: Session, flt: EscalationFilter, limit: int,
                     severity_first: bool = False) -> list[EscalationRow]:
    """Newest first, the higher level first among equals; or with `severity_first` (the
    console's queue), the highest level first and the newest first within a level."""
    q = select(EscalationRow)
    for column, value in ((EscalationRow.state, flt.state), (EscalationRow.level, flt.level),
                          (EscalationRow.stage, flt.stage), (EscalationRow.kind, flt.kind),
                          (EscalationRow.customer_id, flt.customer_id),
                          (EscalationRow.customer_tier, flt.tier),
                          (EscalationRow.assignee, flt.assignee),
                          (EscalationRow.order_id, flt.order_id)):
        if value is not None:
            q = q.where(column == value)
    order = ((EscalationRow.level.desc(), EscalationRow.opened_at.desc()) if severity_first
             else (EscalationRow.opened_at.desc(), EscalationRow.level.desc()))
    q = q.order_by(*order, EscalationRow.id.desc()).limit(limit)
    return list(session.scalars(q))


def open_escalations(session: Session, order_ids: list[str]) -> dict[str, list[EscalationRow]]:
    """Open escalations of several orders in one query, newest first, keyed by order id."""
    out: dict[str, list[EscalationRow]] = {}
    if not order_ids:
        return out
    rows = session.scalars(
        select(EscalationRow)
        .where(EscalationRow.order_id.in_(order_ids), EscalationRow.state == "open")
        .order_by(EscalationRow.opened_at.desc(), EscalationRow.id.desc()))
    for row in rows:
        out.setdefault(row.order_id, []).append(row)
    return out


def get_escalation(session: Session, escalation_id: str) -> EscalationRow | None:
    return session.get(EscalationRow, escalation_id)


def history(session: Session, escalation_id: str) -> list[EscalationEvent]:
    return personal.reveal(session, ESCALATION_EVENTS, list(session.scalars(
        select(EscalationEvent).where(EscalationEvent.escalation_id == escalation_id)
        .order_by(EscalationEvent.seq))))


def apply_escalation_projection(session: Session, inp: EscalationProjection) -> None:
    """Idempotent: steps keyed by (escalation, seq); the row only moves to a newer snapshot.
    A step inserted is linked to its order's audit chain (a complaint's, without an order)."""
    s = inp.status
    if inp.steps:
        rows = [{"escalation_id": s.escalation_id, "seq": st.seq, "at": st.at,
                 "action": st.action.value, "level": st.level, "actor": st.actor,
                 "comment": st.comment, "detail": to_jsonable_python(st.detail)}
                for st in inp.steps]
        insert_linked(session, escalation_chain(s.order_id, s.subject), EscalationEvent.__table__,
                      rows)
    values = {
        "level": s.level, "state": s.state.value, "resolved_at": s.resolved_at,
        "resolution": s.resolution, "resolution_code": s.resolution_code,
        "resolved_by": s.resolved_by, "assignee": s.assignee, "recipients": s.recipients,
        "level_since": s.level_since, "acknowledged_at": s.acknowledged_at,
        "acknowledged_by": s.acknowledged_by, "snoozed_until": s.snoozed_until,
        "next_step_at": s.next_step_at, "updated_seq": s.seq,
    }
    row = {"id": s.escalation_id, "order_id": s.order_id, "breach_id": s.breach_id,
           "kind": s.kind.value, "stage": s.stage.value if s.stage else "",
           "subject": s.subject, "customer_id": s.customer_id,
           "customer_tier": s.customer_tier.value, "due_at": s.due_at,
           "opened_at": s.opened_at, **values}
    upsert_newer(session, EscalationRow.__table__, row, "id", tuple(values), "updated_seq")
