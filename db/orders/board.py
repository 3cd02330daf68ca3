"""The SQL behind the console's board (issue 18 §4) and the list behind its closed/cancelled
counts: orders under the board's filters, the open claims, complaints and escalations of the
orders on it. The board's rules (which stages are active, what is overdue) are the caller's
(console/board/view.py); this module only reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from db.claims.models import ClaimRow
from db.complaints.models import ComplaintRow
from db.escalations.models import EscalationRow
from db.orders.models import Order
from workflows.claim.types import ClaimState
from workflows.complaint.types import ComplaintStep

OPEN_ESCALATION = "open"


def _open_escalation() -> ColumnElement[bool]:
    return exists().where(EscalationRow.order_id == Order.order_id,
                          EscalationRow.state == OPEN_ESCALATION)


def _open_case() -> ColumnElement[bool]:
    return or_(
        exists().where(ClaimRow.order_id == Order.order_id,
                       ClaimRow.state == ClaimState.OPEN.value),
        exists().where(ComplaintRow.order_id == Order.order_id,
                       ComplaintRow.step != ComplaintStep.CLOSED.value))


@dataclass(frozen=True)
class OrderQuery:
    """The board's filters as SQL; every field empty or False = no filter."""

    customer: str = ""
    tier: str = ""
    q: str = ""
    ever_breached: bool = False
    open_escalation: bool = False
    open_case: bool = False

    def apply(self, q: Select) -> Select:  # type: ignore[type-arg]
        if self.customer:
            q = q.where(or_(Order.customer_id == self.customer,
                            func.lower(Order.customer["name"].as_string())
                            .contains(self.customer.lower())))
        if self.tier:
            q = q.where(Order.customer_tier == self.tier)
        if self.ever_breached:
            q = q.where(Order.breached.is_(True))
        if self.q:
            needle = self.q.lower()
            q = q.where(or_(func.lower(Order.order_id).contains(needle),
                            func.lower(func.coalesce(Order.tracking_no, "")).contains(needle)))
        if self.open_escalation:
            q = q.where(_open_escalation())
        if self.open_case:
            q = q.where(_open_case())
        return q


def stage_counts(session: Session, query: OrderQuery) -> dict[str, int]:
    """How many orders each stage holds under the filters."""
    rows = session.execute(query.apply(select(Order.stage, func.count()).group_by(Order.stage)))
    return {stage: count for stage, count in rows.all()}


def maybe_overdue(session: Session, query: OrderQuery, stage: str, now: datetime,
                  limit: int) -> list[Order]:
    """A stage's orders that may be overdue now: a breach recorded (perhaps since cleared) or
    the next deadline passed. Which of them are overdue is read from their breaches by the
    caller; a cleared breach is not in SQL."""
    q = query.apply(select(Order).where(
        Order.stage == stage,
        or_(Order.breached.is_(True), Order.next_deadline_at <= now)))
    return list(session.scalars(q.order_by(Order.next_deadline_at, Order.order_id).limit(limit)))


def soonest(session: Session, query: OrderQuery, stage: str, leave_out: list[str],
            limit: int) -> list[Order]:
    """A stage's orders, the soonest next deadline first, then the newest."""
    q = query.apply(select(Order).where(Order.stage == stage))
    if leave_out:
        q = q.where(Order.order_id.not_in(leave_out))
    q = q.order_by(Order.next_deadline_at.is_(None), Order.next_deadline_at,
                   Order.created_at.desc(), Order.order_id).limit(limit)
    return list(session.scalars(q))


def page_of_stage(session: Session, query: OrderQuery, stage: str, limit: int,
                  after: tuple[datetime, str] | None) -> list[Order]:
    """One page of a stage's orders, newest first, keyset-paginated on (created_at, order_id)
    as GET /v1/orders is."""
    q = query.apply(select(Order).where(Order.stage == stage))
    if after:
        created, oid = after
        q = q.where(or_(Order.created_at < created,
                        and_(Order.created_at == created, Order.order_id < oid)))
    q = q.order_by(Order.created_at.desc(), Order.order_id.desc()).limit(limit)
    return list(session.scalars(q))


@dataclass
class OpenWork:
    """What is still open about one order: its claims, complaints and escalations."""

    claims: list[ClaimRow] = field(default_factory=list)
    complaints: list[ComplaintRow] = field(default_factory=list)
    escalations: list[EscalationRow] = field(default_factory=list)


def open_work(session: Session, order_ids: list[str]) -> dict[str, OpenWork]:
    """Open claims, complaints and escalations of several orders, three queries in all."""
    out: dict[str, OpenWork] = {oid: OpenWork() for oid in order_ids}
    if not order_ids:
        return out
    for claim in session.scalars(select(ClaimRow).where(
            ClaimRow.order_id.in_(order_ids), ClaimRow.state == ClaimState.OPEN.value)
            .order_by(ClaimRow.opened_at, ClaimRow.id)):
        out[claim.order_id].claims.append(claim)
    for complaint in session.scalars(select(ComplaintRow).where(
            ComplaintRow.order_id.in_(order_ids),
            ComplaintRow.step != ComplaintStep.CLOSED.value)
            .order_by(ComplaintRow.opened_at, ComplaintRow.id)):
        if complaint.order_id is not None:
            out[complaint.order_id].complaints.append(complaint)
    for escalation in session.scalars(select(EscalationRow).where(
            EscalationRow.order_id.in_(order_ids), EscalationRow.state == OPEN_ESCALATION)
            .order_by(EscalationRow.level.desc(), EscalationRow.opened_at)):
        out[escalation.order_id].escalations.append(escalation)
    return out


def change_mark(session: Session, order_id: str) -> tuple[object, ...] | None:
    """What moves when anything the order page shows moves: the order's projection, and its
    open claims', complaints' and escalations' rows. None if there is no such order."""
    row = session.execute(select(Order.projection_seq, Order.updated_at)
                          .where(Order.order_id == order_id)).one_or_none()
    if row is None:
        return None
    escalations = session.execute(
        select(EscalationRow.id, EscalationRow.updated_seq)
        .where(EscalationRow.order_id == order_id).order_by(EscalationRow.id)).all()
    claims = session.execute(select(ClaimRow.id, ClaimRow.updated_seq)
                             .where(ClaimRow.order_id == order_id).order_by(ClaimRow.id)).all()
    complaints = session.execute(select(ComplaintRow.id, ComplaintRow.updated_seq)
                                 .where(ComplaintRow.order_id == order_id)
                                 .order_by(ComplaintRow.id)).all()
    return (tuple(row), *map(tuple, escalations), *map(tuple, claims), *map(tuple, complaints))
