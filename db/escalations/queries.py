"""All SQL about escalations and their ladder history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from db.audit.canonical import escalation_chain
from db.audit.chain import insert_linked
from db.complaints.models import ComplaintRow
from db.escalations.models import EscalationEvent, EscalationRow
from db.keys.models import ApiKey
from db.orders.models import Order
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
    # The console's views: assigned to one of these names (or, with `or_unassigned`, to
    # nobody); only unassigned ones.
    assignee_in: tuple[str, ...] | None = None
    or_unassigned: bool = False
    unassigned: bool = False

    def views(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.unassigned:
            out.append(EscalationRow.assignee.is_(None))
        if self.assignee_in is not None:
            mine = EscalationRow.assignee.in_(self.assignee_in)
            out.append(or_(mine, EscalationRow.assignee.is_(None)) if self.or_unassigned
                       else mine)
        return out


def list_escalations(session: Session, flt: EscalationFilter, limit: int,
                     severity_first: bool = False, soonest_first: bool = False
                     ) -> list[EscalationRow]:
    """Newest first, the higher level first among equals; or with `severity_first`, the
    highest level first and the newest first within a level; or with `soonest_first` (the
    console's open queue, which sorts further by urgency), the ladder's next step first."""
    q = select(EscalationRow).where(*flt.views())
    for column, value in ((EscalationRow.state, flt.state), (EscalationRow.level, flt.level),
                          (EscalationRow.stage, flt.stage), (EscalationRow.kind, flt.kind),
                          (EscalationRow.customer_id, flt.customer_id),
                          (EscalationRow.customer_tier, flt.tier),
                          (EscalationRow.assignee, flt.assignee),
                          (EscalationRow.order_id, flt.order_id)):
        if value is not None:
            q = q.where(column == value)
    order: tuple[Any, ...] = (
        (EscalationRow.level.desc(), EscalationRow.opened_at.desc()) if severity_first
        else (EscalationRow.next_step_at.is_(None), EscalationRow.next_step_at.asc())
        if soonest_first else (EscalationRow.opened_at.desc(), EscalationRow.level.desc()))
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


@dataclass(frozen=True)
class Subject:
    """What the queue shows of an escalation's order or complaint: the customer's name and the
    ladder its policy defines (the snapshot's `escalation`, plain JSON)."""

    customer_name: str
    ladder: dict[str, Any] | None


def subjects(session: Session, rows: Iterable[EscalationRow]) -> dict[str, Subject]:
    """Keyed by escalation id, in two queries (orders; complaints without an order)."""
    rows = list(rows)
    order_ids = {r.order_id for r in rows if r.order_id}
    complaint_ids = {r.subject.partition(":")[2] for r in rows
                     if not r.order_id and r.subject.startswith("complaint:")}
    found: dict[str, Subject] = {}
    if order_ids:
        for oid, customer, snap in session.execute(
                select(Order.order_id, Order.customer, Order.sla_policy_snapshot)
                .where(Order.order_id.in_(order_ids))):
            found[oid] = Subject((customer or {}).get("name", ""), (snap or {}).get("escalation"))
    if complaint_ids:
        for cid, customer, snap in session.execute(
                select(ComplaintRow.id, ComplaintRow.customer, ComplaintRow.sla_policy_snapshot)
                .where(ComplaintRow.id.in_(complaint_ids))):
            found[f"complaint:{cid}"] = Subject((customer or {}).get("name", ""),
                                                (snap or {}).get("escalation"))
    return {r.id: found.get(r.order_id or r.subject, Subject("", None)) for r in rows}


def last_steps(session: Session, escalation_ids: Iterable[str],
               action: str) -> dict[str, EscalationEvent]:
    """The latest step of `action` (e.g. "waived") of each escalation that has one."""
    ids = list(escalation_ids)
    if not ids:
        return {}
    out: dict[str, EscalationEvent] = {}
    for step in session.scalars(select(EscalationEvent)
                                .where(EscalationEvent.escalation_id.in_(ids),
                                       EscalationEvent.action == action)
                                .order_by(EscalationEvent.seq)):
        out[step.escalation_id] = step
    return out


def staff(session: Session, roles: Iterable[str]) -> list[tuple[str, str]]:
    """(name, team) of every key of these roles that is not revoked; the team is the role's
    name when the key names none (as the in-app inbox reads it)."""
    rows = session.execute(select(ApiKey.name, ApiKey.team, ApiKey.role)
                           .where(ApiKey.role.in_(list(roles)), ApiKey.revoked_at.is_(None))
                           .order_by(ApiKey.name))
    return [(name, team or role) for name, team, role in rows]


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
