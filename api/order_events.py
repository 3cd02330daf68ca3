"""Posting an event to an order: the one path every endpoint that changes an order takes.

The event goes to the order's workflow as an update; the validator's rejections become API
errors, and a closed or cancelled order takes notes only, written straight to its timeline.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError
from api.event_idempotency import body_hash, execute_event_update, seen_before
from api.schemas import EventAccepted
from api.views import workflow_id
from config import Settings
from db import orders as repo
from db.models import Order
from policies import from_snapshot
from workflows import search
from workflows.order import OrderWorkflow
from workflows.types import (
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

# Rejections raised by the workflow's update validator, by their ApplicationError type.
REJECTIONS = {"invalid_transition": 409, "event_id_reused": 409, "unknown_sku": 422,
              "invalid_promise": 422, "invalid_quantity": 422, "decision_not_pending": 409,
              "decision_pending": 409, "receipt_unchanged": 409}


def load_order(session: Session, order_id: str) -> Order:
    row = repo.get_order(session, order_id)
    if row is None:
        raise ApiError(404, "order_not_found", f"order {order_id} does not exist",
                       order_id=order_id)
    return row


def workflow_input(row: Order) -> OrderInput:
    customer = row.customer
    return OrderInput(
        order_id=row.order_id,
        customer=Customer(id=customer["id"], name=customer["name"], tier=Tier(customer["tier"]),
                          phone=customer.get("phone"), email=customer.get("email"),
                          language=customer.get("language", "zh-CN"),
                          key_account_manager=customer.get("key_account_manager")),
        lines=[Line(sku=line["sku"], qty=line["ordered"]) for line in row.lines],
        destination=row.destination,
        promised_ship_by=row.promised_ship_by,
        promised_delivery_by=row.promised_delivery_by,
        policy=from_snapshot(row.sla_policy_snapshot),
        received_at=row.received_at,
        recorded_at=row.created_at,
        actor=row.created_by,
        source=row.created_by_role,
    )


async def ensure_started(client: Client, settings: Settings, row: Order) -> None:
    """Start the order's workflow; one already started for this order is the same order."""
    inp = workflow_input(row)
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            OrderWorkflow.run, inp, id=workflow_id(row.order_id), task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(search.STAGE, Stage.RECEIVED.value),
                SearchAttributePair(search.CUSTOMER_ID, inp.customer.id),
                SearchAttributePair(search.CUSTOMER_TIER, inp.customer.tier.value),
                SearchAttributePair(search.SLA_BREACHED, False),
            ]))


async def submit_event(session: Session, client: Client, settings: Settings, row: Order,
                       body: dict[str, Any], actor: str, source: str) -> EventAccepted:
    """Apply one event to an order.

    `body` is the event as JSON ({event_id, type, occurred_at, data}); its hash makes a repeat
    of the same event id a duplicate, and a different body under that id a 409. `actor` and
    `source` say who posted it (a key's name and role, or e.g. a customer through a survey link).
    """
    digest = body_hash(body)
    event_id = body["event_id"]
    if seen_before(repo.find_event(session, row.order_id, event_id), digest, event_id):
        return EventAccepted(duplicate=True, stage=row.stage)
    inp = EventInput(event_id=event_id, type=EventType(body["type"]),
                     occurred_at=datetime.fromisoformat(body["occurred_at"]).astimezone(UTC),
                     data=body["data"], actor=actor, source=source, body_hash=digest)
    if Stage(row.stage) in TERMINAL_STAGES:
        return _after_close(session, row, inp)
    try:
        return await _apply(client, settings, row, inp)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    session.expire_all()
    row = load_order(session, row.order_id)
    if Stage(row.stage) in TERMINAL_STAGES:
        # The workflow ended between our read and the update (a race with cancel or close).
        return _after_close(session, row, inp)
    # The order was stored but its workflow never started (Temporal was down): start it now.
    await ensure_started(client, settings, row)
    return await _apply(client, settings, row, inp)


async def _apply(client: Client, settings: Settings, row: Order,
                 inp: EventInput) -> EventAccepted:
    handle = client.get_workflow_handle(workflow_id(row.order_id))
    duplicate, result = await execute_event_update(handle, OrderWorkflow.apply_event, inp,
                                                   settings, REJECTIONS)
    if duplicate:
        return EventAccepted(duplicate=True, stage=row.stage)
    return EventAccepted(duplicate=False, stage=result.stage.value)


def _after_close(session: Session, row: Order, inp: EventInput) -> EventAccepted:
    if inp.type != EventType.NOTE:
        raise ApiError(409, "invalid_transition", f"{inp.type} is not allowed in stage {row.stage}",
                       current_stage=row.stage, event_type=inp.type.value)
    now = datetime.now(UTC)
    repo.add_timeline_entries(session, row.order_id, [TimelineEntry(
        event_id=inp.event_id, type=inp.type.value, occurred_at=inp.occurred_at, recorded_at=now,
        actor=inp.actor, source=inp.source, data=inp.data, body_hash=inp.body_hash)])
    return EventAccepted(duplicate=False, stage=row.stage)
