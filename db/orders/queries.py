"""All SQL about orders, their timeline and escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from db.audit.chain import insert_linked
from db.follow_ups.queries import upsert_follow_up
from db.orders.models import Order, OrderEvent, OrderScan
from db.personal import queries as personal
from db.personal.fields import ORDER_EVENTS
from db.upsert import insert_new, upsert_newer
from policies import snapshot
from workflows.order.types import (
    MERGED,
    TRACKED,
    OrderState,
    ProjectionChange,
    ProjectionInput,
    Scan,
    Stage,
    TimelineEntry,
)

SYSTEM = "system"
STAGE_COLUMNS = {stage.value: f"{stage.value}_at" for stage in Stage}


def get_order(session: Session, order_id: str) -> Order | None:
    return session.get(Order, order_id)


def add_order(session: Session, order: Order) -> None:
    session.add(order)
    session.flush()


@dataclass
class OrderFilter:
    stage: str | None = None
    customer_id: str | None = None
    tier: str | None = None
    breached: bool | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    # A scoped key's customers and carriers (api/keys/scope.py): None = any.
    customer_ids: tuple[str, ...] | None = None
    carriers: tuple[str, ...] | None = None


def list_orders(session: Session, flt: OrderFilter, limit: int,
                after: tuple[datetime, str] | None) -> list[Order]:
    """Newest first, keyset-paginated on (created_at, order_id)."""
    q = select(Order)
    if flt.stage:
        q = q.where(Order.stage == flt.stage)
    if flt.customer_id:
        q = q.where(Order.customer_id == flt.customer_id)
    if flt.customer_ids is not None:
        q = q.where(Order.customer_id.in_(sorted(flt.customer_ids)))
    if flt.carriers is not None:
        q = q.where(Order.carrier.in_(sorted(flt.carriers)))
    if flt.tier:
        q = q.where(Order.customer_tier == flt.tier)
    if flt.breached is not None:
        q = q.where(Order.breached == flt.breached)
    if flt.created_from:
        q = q.where(Order.created_at >= flt.created_from)
    if flt.created_to:
        q = q.where(Order.created_at < flt.created_to)
    if after:
        created, oid = after
        q = q.where(or_(Order.created_at < created,
                        and_(Order.created_at == created, Order.order_id < oid)))
    q = q.order_by(Order.created_at.desc(), Order.order_id.desc()).limit(limit)
    return list(session.scalars(q))


def find_event(session: Session, order_id: str, event_id: str) -> OrderEvent | None:
    row = session.scalar(select(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.event_id == event_id))
    return None if row is None else personal.reveal(session, ORDER_EVENTS, [row])[0]


def timeline(session: Session, order_id: str) -> list[OrderEvent]:
    return personal.reveal(session, ORDER_EVENTS, list(session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.occurred_at, OrderEvent.recorded_at, OrderEvent.id))))


def add_timeline_entries(session: Session, order_id: str, entries: list[TimelineEntry]) -> None:
    """Append entries; an entry already stored (same event id) is left as it is. Each entry
    inserted is linked to the order's audit chain."""
    if not entries:
        return
    rows = [{"order_id": order_id, "event_id": e.event_id, "type": e.type,
             "occurred_at": e.occurred_at, "recorded_at": e.recorded_at, "actor": e.actor,
             "source": e.source, "data": to_jsonable_python(e.data), "body_hash": e.body_hash}
            for e in entries]
    insert_linked(session, order_id, OrderEvent.__table__, rows)


def add_scans(session: Session, order_id: str, scans: list[Scan]) -> None:
    """Store scans; one already stored (same event id) is left as it is."""
    if not scans:
        return
    rows = [{"order_id": order_id, "event_id": scan.event_id, "occurred_at": scan.occurred_at,
             "location": scan.location, "status": scan.status, "eta": scan.eta,
             "seen_at": scan.seen_at} for scan in scans]
    insert_new(session, OrderScan.__table__, rows, ("order_id", "event_id"))


def scans_of(session: Session, order_id: str) -> list[OrderScan]:
    """An order's scans by the time they were made (ties by event id, as the workflow sorts)."""
    return list(session.scalars(
        select(OrderScan).where(OrderScan.order_id == order_id)
        .order_by(OrderScan.occurred_at, OrderScan.event_id)))


@dataclass(frozen=True)
class RuleDates:
    """Dates the read model shows that follow from the order's rules (workflows/order/deadlines.py),
    worked out by the caller: the database applies no workflow rules."""

    latest_eta: datetime | None = None
    receipt_due_at: datetime | None = None


def _detail(s: OrderState, eta: datetime | None) -> dict[str, Any]:
    detail: dict[str, Any] = to_jsonable_python({
        "shipment": s.shipment, "latest_eta": eta, "delivery": s.delivery,
        "receipt": s.receipt, "survey": s.survey, "breaches": s.breaches,
        "cancel_reason": s.cancel_reason,
        "next_deadline": s.next_deadline,
        "decision": s.decision, "decisions": s.decisions, "exceptions": s.exceptions,
        "claims": s.claims, "complaints": s.complaints, "lost": s.lost,
        # issue 19 §5: only an order with a customer-caused pause has the key
        **({"pauses": s.pauses} if s.pauses else {}),
    })  # a dict in, so a dict out
    return detail


def apply_projection(session: Session, inp: ProjectionInput, dates: RuleDates) -> None:
    """Write one whole-state projection (orders started before lean projections). Idempotent,
    and an older snapshot never overwrites a newer one."""
    add_scans(session, inp.state.order_id, inp.state.scans)
    _write(session, inp.state, inp.entries, dates)


_STATE = TypeAdapter(OrderState)


def apply_change(session: Session, change: ProjectionChange) -> OrderState:
    """Apply one lean projection to the state last written and return the order's state now
    (without its scans, which are rows). Idempotent: a change applied before (a retry) or
    older than the one stored leaves the order as it is and returns the stored state."""
    order_id = change.order_id
    row = session.execute(
        select(Order.state, Order.projection_seq).where(Order.order_id == order_id)
        .with_for_update()).one_or_none()
    stored: dict[str, Any] = (row.state if row is not None else None) or {}
    stored_seq: int = row.projection_seq if row is not None else 0
    fresh = row is None or row.state is None or stored_seq < change.seq
    merged = merge_change(stored, change.changed) if fresh else stored
    state = _STATE.validate_python(
        {**merged, "scans": [], "seq": change.seq if fresh else stored_seq})
    add_scans(session, order_id, change.scans)
    if fresh:
        dates = RuleDates(latest_eta=change.latest_eta, receipt_due_at=change.receipt_due_at)
        _write(session, state, change.entries, dates, stored_state=merged)
    else:
        add_timeline_entries(session, order_id, change.entries)
    return state


def merge_change(stored: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """The stored state JSON with a change's fields; a MERGED field's keys go into the stored
    dict (a whole dict, as older changes sent it, merges to itself)."""
    merged = {**stored, **changed}
    for name in MERGED & changed.keys():
        merged[name] = {**stored.get(name, {}), **changed[name]}
    return merged


def stored_state(state: OrderState) -> dict[str, Any]:
    """The JSON the read model keeps of an order's state (`orders.state`): every field a change
    may carry, as the converter writes it (datetimes as text), without the scans."""
    return {name: to_jsonable_python(getattr(state, name)) for name in TRACKED}


def _write(session: Session, s: OrderState, entries: list[TimelineEntry], dates: RuleDates,
           stored_state: dict[str, Any] | None = None) -> None:
    now = datetime.now(UTC)
    add_timeline_entries(session, s.order_id, entries)
    dynamic: dict[str, Any] = {
        "stage": s.stage.value,
        "promised_ship_by": s.promised_ship_by,
        "promised_delivery_by": s.promised_delivery_by,
        **{col: s.stage_times.get(stage) for stage, col in STAGE_COLUMNS.items()},
        # The same deadline the workflow's receipt_late breach uses.
        "receipt_due_at": dates.receipt_due_at,
        "lines": to_jsonable_python(s.lines),
        "carrier": s.shipment.carrier if s.shipment else None,
        "tracking_no": s.shipment.tracking_no if s.shipment else None,
        "in_full": s.in_full,
        "on_time": s.on_time,
        "breached": bool(s.breaches),
        "follow_up_status": s.survey.status.value if s.survey else None,
        "next_deadline_kind": s.next_deadline.kind if s.next_deadline else None,
        "next_deadline_at": s.next_deadline.due_at if s.next_deadline else None,
        "detail": _detail(s, dates.latest_eta),
        "state": stored_state,
        "projection_seq": s.seq,
        "updated_at": now,
    }
    received = s.stage_times[Stage.RECEIVED.value]
    row = {"order_id": s.order_id, "customer_id": s.customer.id,
           "customer_tier": s.customer.tier.value, "customer": to_jsonable_python(s.customer),
           "destination": s.destination, "sla_policy": s.policy.name,
           "sla_policy_version": s.policy.version, "sla_policy_snapshot": snapshot(s.policy),
           "create_hash": "", "created_by": SYSTEM, "created_by_role": SYSTEM,
           "created_at": received, **dynamic}
    upsert_newer(session, Order.__table__, row, "order_id", tuple(dynamic), "projection_seq")
    if s.survey is not None:
        upsert_follow_up(session, s)

