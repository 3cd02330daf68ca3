"""What the API and the console do to an order: create it, post an event, read it.

Every operation follows the edge's rule (api/edge/): database work in short units of work off
the event loop (`Db.run`), the connection released, then Temporal under one deadline, then a
fresh unit to read back. A closed or cancelled order takes notes only, written straight to its
timeline; an order that closes while an event is on its way is treated as closed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import Principal
from api.edge.deadline import temporal_deadline
from api.edge.payload_limit import check_payload
from api.edge.units import Db
from api.errors import ApiError, found
from api.events.idempotency import body_hash, execute_event_update, new_request_id, seen_before
from api.events.rejections import rejected
from api.events.times import refuse_occurred_before
from api.orders.events import EventAccepted
from api.orders.read_model import CustomerView
from api.orders.schemas import OrderCreate, OrderView
from api.orders.views import order_view
from config import Settings
from db.escalations import queries as escalation_repo
from db.orders import queries as repo
from db.orders.models import Order
from db.policies import queries as policy_repo
from observability.metrics import event_outcome
from policies import from_snapshot, policy_name_for, snapshot
from workflows.ids import order_workflow_id
from workflows.order import search
from workflows.order.rules import created_entry, opening_state
from workflows.order.types import (
    TERMINAL_STAGES,
    Customer,
    EventInput,
    EventType,
    Line,
    OrderInput,
    Stage,
    Tier,
    TimelineEntry,
)
from workflows.order.workflow import OrderWorkflow
from workflows.policy import SlaPolicy

T = TypeVar("T")



# -- reading --------------------------------------------------------------------------------

def load_order(session: Session, order_id: str) -> Order:
    return found(repo.get_order(session, order_id), "order", "order_id", order_id)


def view_of(session: Session, order_id: str) -> OrderView:
    row = load_order(session, order_id)
    return order_view(row, escalation_repo.open_escalations(session, [order_id])
                      .get(order_id, []))


def customer_of(stored: dict[str, Any]) -> Customer:
    """The workflow's Customer from its stored JSON (an order's or a complaint's), read through
    the read model's CustomerView (its defaults for keys older rows lack)."""
    view = CustomerView.model_validate(stored)
    return Customer(id=view.id, name=view.name, tier=view.tier, phone=view.phone,
                    email=view.email, language=view.language,
                    key_account_manager=view.key_account_manager)


def workflow_input(row: Order) -> OrderInput:
    return OrderInput(
        order_id=row.order_id,
        customer=customer_of(row.customer),
        lines=[Line(sku=line["sku"], qty=line["ordered"]) for line in row.lines],
        destination=row.destination,
        promised_ship_by=row.promised_ship_by,
        promised_delivery_by=row.promised_delivery_by,
        policy=from_snapshot(row.sla_policy_snapshot),
        received_at=row.received_at,
        recorded_at=row.created_at,
        actor=row.created_by,
        source=row.created_by_role,
        declared_value_minor=row.declared_value_minor,
        weight_kg=row.weight_kg,
    )


# -- creating -------------------------------------------------------------------------------

def _policy_for(session: Session, requested: str | None, tier: Tier) -> SlaPolicy:
    """The newest version of the policy asked for, else of the tier's, else of `standard`."""
    for name in policy_name_for(requested, tier):
        row = policy_repo.latest(session, name)
        if row is not None:
            return policy_repo.as_policy(row)
    raise ApiError(422, "unknown_policy", f"no SLA policy named {requested!r}",
                   sla_policy=requested,
                   known=[r.name for r in policy_repo.all_latest(session)])


def _record(session: Session, settings: Settings, body: OrderCreate, digest: str,
            who: Principal) -> Order | None:
    """Store a new order with its first timeline entry; None if the id is taken."""
    if repo.get_order(session, body.order_id) is not None:
        return None
    policy = _policy_for(session, body.sla_policy, body.customer.tier)
    now = datetime.now(UTC)
    row = Order(
        order_id=body.order_id, customer_id=body.customer.id,
        customer_tier=body.customer.tier.value, customer=body.customer.model_dump(mode="json"),
        lines=[{"sku": line.sku, "ordered": line.qty} for line in body.lines],
        destination=body.destination.model_dump(mode="json", exclude_none=True),
        promised_ship_by=body.promised_ship_by,
        promised_delivery_by=body.promised_delivery_by, sla_policy=policy.name,
        sla_policy_version=policy.version, sla_policy_snapshot=snapshot(policy),
        stage=Stage.RECEIVED.value, received_at=body.received_at or now, breached=False,
        detail={}, create_hash=digest, created_by=who.name, created_by_role=who.role.value,
        created_at=now, updated_at=now, projection_seq=0,
        declared_value_minor=body.declared_value_minor, weight_kg=body.weight_kg)
    inp = workflow_input(row)
    check_payload(settings, inp, "order")  # before it is stored
    row.state = repo.stored_state(opening_state(inp))  # the workflow's first change builds on it
    repo.add_order(session, row)
    repo.add_timeline_entries(session, row.order_id, [created_entry(inp)])
    return row


def creation_body(body: OrderCreate) -> dict[str, Any]:
    """The body an order's idempotency hash is taken of. Fields added later are left out
    while unset, so an order created before them still matches its retried body."""
    return body.model_dump(mode="json", exclude={
        name for name in OrderCreate.ADDED_LATER if getattr(body, name) is None})


async def create(db: Db, client: Client, settings: Settings, body: OrderCreate,
                 who: Principal) -> tuple[OrderView, bool]:
    """Record the order, then start its workflow; (view, created). The same body twice is the
    same order (its workflow started if the first try could not); another body under the id
    is `order_exists`, even when both arrive at once (the insert decides)."""
    digest = body_hash(creation_body(body))
    try:
        # Committed before the workflow starts: no side effect may precede the commit.
        row = await db.run(_record, settings, body, digest, who)
    except IntegrityError:
        row = None  # a concurrent create of the same id won the insert
    created = row is not None
    if row is None:
        row = await db.run(load_order, body.order_id)
        if row.create_hash != digest:
            raise ApiError(409, "order_exists",
                           f"order {body.order_id} exists with a different body",
                           order_id=body.order_id)
    async with temporal_deadline(settings):
        await ensure_started(client, settings, row)
    if created:  # the row just stored is the view (no escalation opens within a create)
        return order_view(row, []), True
    return await db.run(view_of, body.order_id), False


async def ensure_started(client: Client, settings: Settings, row: Order) -> None:
    """Start the order's workflow; one already started for this order is the same order."""
    # Stored: the row holds the opening state and no projection yet (rows from before the
    # opening state was stored have none; the workflow then sends its whole first state).
    inp = replace(workflow_input(row), history_limit_bytes=settings.order_history_limit_bytes,
                  stored=row.state is not None and not row.projection_seq)
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            OrderWorkflow.run, inp, id=order_workflow_id(row.order_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.STAGE, Stage.RECEIVED.value),
                SearchAttributePair(search.CUSTOMER_ID, inp.customer.id),
                SearchAttributePair(search.CUSTOMER_TIER, inp.customer.tier.value),
                SearchAttributePair(search.SLA_BREACHED, False),
            ]))


# -- events ---------------------------------------------------------------------------------

def order_and_event(session: Session, order_id: str, event_id: str) -> tuple[Order, Any]:
    return load_order(session, order_id), repo.find_event(session, order_id, event_id)


async def submit_event(db: Db, client: Client, settings: Settings, order_id: str,
                       body: dict[str, Any], actor: str, source: str) -> EventAccepted:
    """Apply one event to an order.

    `body` is the event as JSON ({event_id, type, occurred_at, data}); its hash makes a repeat
    of the same event id a duplicate, and a different body under that id a 409. `actor` and
    `source` say who posted it (a key's name and role, or e.g. a customer through a survey link).
    """
    digest = body_hash(body)
    inp = EventInput(event_id=body["event_id"], type=EventType(body["type"]),
                     occurred_at=datetime.fromisoformat(body["occurred_at"]).astimezone(UTC),
                     data=body["data"], actor=actor, source=source, body_hash=digest,
                     request_id=new_request_id(),
                     clock_skew_seconds=settings.event_clock_skew_seconds)
    with event_outcome(inp.type.value) as counted:  # accepted or refused, for /metrics
        # The running workflow knows every event id it applied: a repeat is a duplicate there.
        async with temporal_deadline(settings):
            outcome = await on_running_order(db, client, settings, order_id,
                                             lambda: _apply(client, settings, order_id, inp))
        if isinstance(outcome, Ended):
            outcome = await db.run(_after_close, order_id, inp)
        counted.duplicate = outcome.duplicate
    return outcome


@dataclass(frozen=True)
class Ended:
    """The order has ended (closed or cancelled), maybe while a request was on its way."""

    row: Order
    stage: Stage


async def on_running_order(db: Db, client: Client, settings: Settings, order_id: str,
                           call: Callable[[], Awaitable[T]]) -> T | Ended:
    """`call()` on the order's running workflow, or `Ended` for the caller's closed-order way.

    Straight to the workflow: the database is read only when it is not running. The order may
    end between a caller's read and the update: its workflow, still finishing, refuses with its
    terminal stage (or is gone), and that is the same as arriving after the close, not a
    conflict. An order stored while Temporal was down has its workflow started first.
    """
    ended: Stage | None = None
    try:
        return await call()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    except ApiError as exc:
        if not closed_meanwhile(exc):
            raise
        ended = Stage(exc.details["current_stage"])
    row = await db.run(load_order, order_id)  # 404 if there is no such order
    if ended is None and Stage(row.stage) not in TERMINAL_STAGES:
        await ensure_started(client, settings, row)
        return await call()
    return Ended(row, ended or Stage(row.stage))


def closed_meanwhile(exc: ApiError) -> bool:
    """The running workflow refused because its order has just closed or been cancelled."""
    return (exc.code == "invalid_transition"
            and exc.details.get("current_stage") in {s.value for s in TERMINAL_STAGES})


async def _apply(client: Client, settings: Settings, order_id: str,
                 inp: EventInput) -> EventAccepted:
    handle = client.get_workflow_handle(order_workflow_id(order_id))
    duplicate, result = await execute_event_update(handle, OrderWorkflow.apply_event, inp,
                                                   settings)
    if result is None:  # the workflow applied it before; its query says where the order is
        stage = (await handle.query(OrderWorkflow.state)).stage.value
        return EventAccepted(duplicate=True, stage=stage)
    return EventAccepted(duplicate=duplicate, stage=result.stage.value)


def _after_close(session: Session, order_id: str, inp: EventInput) -> EventAccepted:
    row = load_order(session, order_id)
    known = repo.find_event(session, order_id, inp.event_id)
    if seen_before(known, inp.body_hash, inp.event_id):
        return EventAccepted(duplicate=True, stage=row.stage)
    refuse_occurred_before(inp.occurred_at, row.received_at, inp.clock_skew_seconds or 0)
    if inp.type != EventType.NOTE:
        raise rejected("invalid_transition", f"{inp.type} is not allowed in stage {row.stage}",
                       current_stage=row.stage, event_type=inp.type.value)
    now = datetime.now(UTC)
    repo.add_timeline_entries(session, order_id, [TimelineEntry(
        event_id=inp.event_id, type=inp.type.value, occurred_at=inp.occurred_at, recorded_at=now,
        actor=inp.actor, source=inp.source, data=inp.data, body_hash=inp.body_hash)])
    return EventAccepted(duplicate=False, stage=row.stage)
