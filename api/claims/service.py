"""Opening a claim and posting events to one: the paths every claim endpoint takes.

A running order opens its claims itself (its `open_claim` update), so it knows to stay open
until they close; for an order already closed or cancelled the claim is started directly.
Events go to the claim's workflow as an update whose validator decides; its rejections become
API errors.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.claims.schemas import ClaimEventAccepted, ClaimOpened
from api.deps import Principal
from api.edge.deadline import temporal_deadline
from api.edge.payload_limit import check_payload
from api.edge.units import Db
from api.errors import ApiError, found
from api.events.idempotency import body_hash, execute_event_update, new_request_id, seen_before
from api.events.rejections import as_api_error, rejected
from api.events.times import received_at, refuse_occurred_before
from api.orders.service import Ended, on_running_order, workflow_input
from config import Settings
from db.claims import queries as repo
from db.claims.models import ClaimRow
from db.orders.models import Order
from workflows.claim.types import (
    ClaimCause,
    ClaimEventInput,
    ClaimEventType,
    ClaimInput,
    OpenClaimInput,
)
from workflows.claim.workflow import ClaimWorkflow
from workflows.ids import claim_workflow_id, order_workflow_id
from workflows.order.types import LineState, Stage
from workflows.order.workflow import OrderWorkflow

_LINE_FIELDS = {f.name for f in dataclasses.fields(LineState)}
_MAX_NUMBERS_TRIED = 100


def load_claim(session: Session, claim_id: str) -> ClaimRow:
    return found(repo.get_claim(session, claim_id), "claim", "claim_id", claim_id)


async def open_claim(db: Db, client: Client, settings: Settings, order_id: str,
                     cause: ClaimCause, description: str, who: Principal,
                     request_id: str | None = None) -> ClaimOpened:
    async with temporal_deadline(settings):
        outcome = await on_running_order(
            db, client, settings, order_id,
            lambda: _through_order(client, settings, order_id, cause, description, who,
                                   request_id))
        if isinstance(outcome, Ended):  # the claim starts on its own, as for a closed order
            return await _directly(db, client, settings, outcome.row, outcome.stage, cause,
                                   description, who)
    return outcome


async def _through_order(client: Client, settings: Settings, order_id: str, cause: ClaimCause,
                         description: str, who: Principal,
                         request_id: str | None) -> ClaimOpened:
    handle = client.get_workflow_handle_for(OrderWorkflow.run, order_workflow_id(order_id))
    try:
        # Temporal answers a repeated update id with the first outcome: a retried request
        # gets the claim it already opened instead of a second one.
        claim_id = await handle.execute_update(
            OrderWorkflow.open_claim, OpenClaimInput(cause=cause, description=description,
                                                     actor=who.name, source=who.role.value),
            id=f"open-claim-{request_id}" if request_id else None,
            rpc_timeout=timedelta(seconds=settings.update_timeout_seconds))
    except WorkflowUpdateFailedError as exc:
        raise as_api_error(exc) or exc from exc.cause
    return ClaimOpened(claim_id=claim_id, order_id=order_id, cause=cause.value,
                       origin="manual", workflow_id=claim_workflow_id(claim_id))


async def _directly(db: Db, client: Client, settings: Settings, row: Order, stage: Stage,
                    cause: ClaimCause, description: str, who: Principal) -> ClaimOpened:
    """The order has ended: start the claim on its own, under the next free number."""
    order = workflow_input(row)
    number = await db.run(repo.next_claim_number, row.order_id)
    for _ in range(_MAX_NUMBERS_TRIED):
        claim_id = f"{row.order_id}-CL{number}"
        inp = ClaimInput(
            claim_id=claim_id, order_id=row.order_id, cause=cause, origin="manual",
            opened_at=datetime.now(UTC), actor=who.name, source=who.role.value,
            customer=order.customer, order_stage=stage, policy=order.policy,
            lines=[LineState(**{k: v for k, v in line.items() if k in _LINE_FIELDS})
                   for line in row.lines],
            description=description, notify_order=False,
            declared_value_minor=order.declared_value_minor, weight_kg=order.weight_kg)
        check_payload(settings, inp, "claim")
        try:
            # Reject duplicates: a closed claim's id is never reused for another claim.
            await client.start_workflow(
                ClaimWorkflow.run, inp, id=claim_workflow_id(claim_id),
                task_queue=settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            number += 1  # taken by a claim not projected yet
            continue
        return ClaimOpened(claim_id=claim_id, order_id=row.order_id, cause=cause.value,
                           origin="manual", workflow_id=claim_workflow_id(claim_id))
    raise ApiError(503, "claim_id_unavailable", "no free claim number; try again",
                   order_id=row.order_id, headers={"Retry-After": "1"})


def _claim_and_event(session: Session, claim_id: str,
                     event_id: str) -> tuple[ClaimRow, Any, datetime | None]:
    row = load_claim(session, claim_id)
    return row, repo.find_event(session, claim_id, event_id), received_at(session, row.order_id)


async def submit_claim_event(db: Db, client: Client, settings: Settings, claim_id: str,
                             body: dict[str, Any], who: Principal,
                             source: str | None = None) -> ClaimEventAccepted:
    """Apply one event ({event_id, type, occurred_at?, data}) to a claim.

    A repeat of an event id with the same body is a duplicate (applied once); a different
    body under that id is a 409, as for orders. `source`: where it came from (the console
    says "console"); the caller's role by default, as the API records it.
    """
    digest = body_hash(body)
    event_id = body["event_id"]
    row, known, received = await db.run(_claim_and_event, claim_id, event_id)
    if seen_before(known, digest, event_id):
        return _accepted(row, duplicate=True)
    if row.state == "closed":
        raise _closed(row, body["type"])
    occurred = body.get("occurred_at")
    if occurred and received is not None:
        refuse_occurred_before(datetime.fromisoformat(occurred), received,
                               settings.event_clock_skew_seconds)
    inp = ClaimEventInput(
        event_id=event_id, type=ClaimEventType(body["type"]), data=body["data"],
        actor=who.name, actor_role=who.role.value, source=source or who.role.value,
        body_hash=digest,
        occurred_at=datetime.fromisoformat(occurred).astimezone(UTC) if occurred else None,
        request_id=new_request_id())
    handle = client.get_workflow_handle_for(ClaimWorkflow.run, claim_workflow_id(row.id))
    try:
        async with temporal_deadline(settings):
            duplicate, result = await execute_event_update(handle, ClaimWorkflow.apply, inp,
                                                           settings)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise _closed(row, body["type"]) from exc  # it closed between our read and the update
    if duplicate or result is None:
        return _accepted(await db.run(load_claim, claim_id), duplicate=True)
    return ClaimEventAccepted(duplicate=False, claim_id=row.id, state=result.state.value,
                              step=result.step.value)


def _accepted(row: ClaimRow, duplicate: bool) -> ClaimEventAccepted:
    return ClaimEventAccepted(duplicate=duplicate, claim_id=row.id, state=row.state,
                              step=row.step)


def _closed(row: ClaimRow, event_type: str) -> ApiError:
    return rejected("invalid_transition", "the claim is closed", claim_id=row.id,
                    current_step="closed", event_type=event_type)
