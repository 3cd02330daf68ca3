"""Orders: create, read, list, post events, timeline and raw history."""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic_core import to_jsonable_python
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import (
    ALL_ROLES,
    Principal,
    Role,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require,
)
from api.errors import ApiError
from api.pagination import decode_cursor, encode_cursor
from api.rejections import as_api_error
from api.schemas import (
    EVENT_EXAMPLES,
    EventAccepted,
    EventIn,
    OrderCreate,
    OrderPage,
    OrderView,
    Timeline,
    TimelineEntryView,
)
from api.views import order_view, workflow_id
from config import Settings
from db import escalations as escalation_repo
from db import orders as repo
from db import policies as policy_repo
from db.models import Order
from policies import from_snapshot, policy_name_for, snapshot
from workflows import search
from workflows.order import OrderWorkflow, created_entry
from workflows.types import (
    TERMINAL_STAGES,
    Customer,
    EventInput,
    EventType,
    Line,
    OrderInput,
    SlaPolicy,
    Stage,
    Tier,
    TimelineEntry,
)

router = APIRouter(prefix="/v1/orders", tags=["orders"])

Writer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.INTEGRATION,
                                              Role.ADMIN))]
Reader = Annotated[Principal, Depends(require(*ALL_ROLES))]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR, Role.ADMIN))]

# Rejections raised by the workflow's update validator, by their ApplicationError type.
_REJECTIONS = {"invalid_transition": 409, "event_id_reused": 409, "unknown_sku": 422,
               "invalid_promise": 422}


def _hash(body: Any) -> str:
    canonical = json.dumps(to_jsonable_python(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _not_found(order_id: str) -> ApiError:
    return ApiError(404, "order_not_found", f"order {order_id} does not exist", order_id=order_id)


def _load(session: Session, order_id: str) -> Order:
    row = repo.get_order(session, order_id)
    if row is None:
        raise _not_found(order_id)
    return row


def _view(session: Session, row: Order) -> OrderView:
    return order_view(row, escalation_repo.open_escalations(session, [row.order_id])
                      .get(row.order_id, []))


def _workflow_input(row: Order) -> OrderInput:
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
        actor=row.created_by,
        source=row.created_by_role,
    )


async def _ensure_started(client: Client, settings: Settings, row: Order) -> None:
    """Start the order's workflow; one already started for this order is the same order."""
    inp = _workflow_input(row)
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


def _policy_for(session: Session, requested: str | None, tier: Tier) -> SlaPolicy:
    """The newest version of the policy asked for, else of the tier's, else of `standard`."""
    for name in policy_name_for(requested, tier):
        row = policy_repo.latest(session, name)
        if row is not None:
            return policy_repo.as_policy(row)
    raise ApiError(422, "unknown_policy", f"no SLA policy named {requested!r}",
                   sla_policy=requested,
                   known=[r.name for r in policy_repo.all_latest(session)])


@router.post("", status_code=201, response_model=OrderView,
             responses={200: {"description": "the same order was already created with this body"},
                        409: {"description": "order_exists: same id, different body"}})
async def create_order(body: OrderCreate, response: Response, who: Writer, session: SessionDep,
                       client: TemporalDep, settings: SettingsDep) -> OrderView:
    policy = _policy_for(session, body.sla_policy, body.customer.tier)
    digest = _hash(body.model_dump(mode="json"))
    row = repo.get_order(session, body.order_id)
    if row is None:
        now = datetime.now(UTC)
        row = Order(
            order_id=body.order_id, customer_id=body.customer.id,
            customer_tier=body.customer.tier.value, customer=body.customer.model_dump(mode="json"),
            lines=[{"sku": line.sku, "ordered": line.qty} for line in body.lines],
            destination=body.destination.model_dump(mode="json", exclude_none=True),
            promised_ship_by=body.promised_ship_by,
            promised_delivery_by=body.promised_delivery_by, sla_policy=policy.name,
            sla_policy_version=policy.version, sla_policy_snapshot=snapshot(policy),
            stage=Stage.RECEIVED.value, received_at=now, breached=False, detail={},
            create_hash=digest, created_by=who.name, created_by_role=who.role.value,
            created_at=now, updated_at=now,
            projection_seq=0)
        try:
            repo.add_order(session, row)
            repo.add_timeline_entries(session, row.order_id, [created_entry(_workflow_input(row))])
            # Commit before starting the workflow: no side effect may precede the commit.
            session.commit()
            created = True
        except IntegrityError:
            session.rollback()
            row = _load(session, body.order_id)
            created = False
    else:
        created = False
    if not created and row.create_hash != digest:
        raise ApiError(409, "order_exists", f"order {body.order_id} exists with a different body",
                       order_id=body.order_id)
    await _ensure_started(client, settings, row)
    response.status_code = 201 if created else 200
    return _view(session, row)


@router.get("", response_model=OrderPage)
def list_orders(
    _: Reader, session: SessionDep,
    stage: Stage | None = None,
    customer_id: str | None = None,
    tier: str | None = Query(default=None, pattern="^(standard|key_account)$"),
    breached: bool | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = None,
) -> OrderPage:
    for name, value in (("created_from", created_from), ("created_to", created_to)):
        if value is not None and value.tzinfo is None:
            raise ApiError(422, "validation_error", f"{name} must carry a time zone",
                           errors=[{"loc": ["query", name], "msg": "time zone required"}])
    flt = repo.OrderFilter(stage=stage.value if stage else None, customer_id=customer_id,
                           tier=tier, breached=breached, created_from=created_from,
                           created_to=created_to)
    rows = repo.list_orders(session, flt, limit + 1, decode_cursor(cursor) if cursor else None)
    page = rows[:limit]
    escalations = escalation_repo.open_escalations(session, [r.order_id for r in page])
    return OrderPage(items=[order_view(r, escalations.get(r.order_id, [])) for r in page],
                     next_cursor=encode_cursor(page[-1].created_at, page[-1].order_id)
                     if len(rows) > limit else None)


@router.get("/{order_id}", response_model=OrderView)
def get_order(order_id: str, _: Reader, session: SessionDep) -> OrderView:
    return _view(session, _load(session, order_id))


@router.post("/{order_id}/events", response_model=EventAccepted,
             responses={404: {"description": "order_not_found"},
                        409: {"description": "invalid_transition or event_id_reused"}})
async def post_event(order_id: str, who: Writer, session: SessionDep, client: TemporalDep,
                     settings: SettingsDep,
                     event: Annotated[EventIn, Body(openapi_examples=EVENT_EXAMPLES)]
                     ) -> EventAccepted:
    row = _load(session, order_id)
    digest = _hash(event.model_dump(mode="json"))
    known = repo.find_event(session, order_id, event.event_id)
    if known is not None:
        if known.body_hash != digest:
            raise ApiError(409, "event_id_reused", "event_id was already used for another event",
                           event_id=event.event_id)
        return EventAccepted(duplicate=True, stage=row.stage)
    inp = EventInput(event_id=event.event_id, type=EventType(event.type),
                     occurred_at=event.occurred_at, data=event.data.model_dump(mode="json"),
                     actor=who.name, source=who.role.value, body_hash=digest)
    if Stage(row.stage) in TERMINAL_STAGES:
        return _after_close(session, row, inp)
    try:
        return await _apply(client, settings, row, inp)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
    session.expire_all()
    row = _load(session, order_id)
    if Stage(row.stage) in TERMINAL_STAGES:
        # The workflow ended between our read and the update (a race with cancel or close).
        return _after_close(session, row, inp)
    # The order was stored but its workflow never started (Temporal was down): start it now.
    await _ensure_started(client, settings, row)
    return await _apply(client, settings, row, inp)


async def _apply(client: Client, settings: Settings, row: Order,
                 inp: EventInput) -> EventAccepted:
    """Send the event to the order's workflow; its validator's rejections become API errors."""
    handle = client.get_workflow_handle(workflow_id(row.order_id))
    try:
        result = await handle.execute_update(
            OrderWorkflow.apply_event, inp, id=inp.event_id,
            rpc_timeout=timedelta(seconds=settings.update_timeout_seconds))
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "duplicate_event":
            return EventAccepted(duplicate=True, stage=row.stage)
        raise as_api_error(exc, _REJECTIONS) or exc from exc.cause
    return EventAccepted(duplicate=False, stage=result.stage.value)


def _after_close(session: Session, row: Order, inp: EventInput) -> EventAccepted:
    """A closed or cancelled order takes notes only, written straight to its timeline."""
    if inp.type != EventType.NOTE:
        raise ApiError(409, "invalid_transition", f"{inp.type} is not allowed in stage {row.stage}",
                       current_stage=row.stage, event_type=inp.type.value)
    now = datetime.now(UTC)
    repo.add_timeline_entries(session, row.order_id, [TimelineEntry(
        event_id=inp.event_id, type=inp.type.value, occurred_at=inp.occurred_at, recorded_at=now,
        actor=inp.actor, source=inp.source, data=inp.data, body_hash=inp.body_hash)])
    return EventAccepted(duplicate=False, stage=row.stage)


@router.get("/{order_id}/timeline", response_model=Timeline)
def get_timeline(order_id: str, _: Reader, session: SessionDep) -> Timeline:
    _load(session, order_id)
    items = [TimelineEntryView.model_validate(e, from_attributes=True)
             for e in repo.timeline(session, order_id)]
    return Timeline(order_id=order_id, items=items)


@router.get("/{order_id}/history",
            description="The raw Temporal event history of the order's workflow, in Temporal's "
                        "own JSON history format (as `temporal workflow show --output json`).")
async def get_history(order_id: str, _: Auditor, session: SessionDep,
                      client: TemporalDep) -> dict[str, Any]:
    _load(session, order_id)
    try:
        history = await client.get_workflow_handle(workflow_id(order_id)).fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, "history_not_found",
                           "Temporal holds no history for this order (past retention?)",
                           order_id=order_id) from exc
        raise
    return history.to_json_dict()
