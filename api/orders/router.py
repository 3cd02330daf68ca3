"""Orders: create, read, list, post events, timeline and raw history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from sqlalchemy.orm import Session
from temporalio.service import RPCError, RPCStatusCode

from api.deps import (
    Principal,
    SessionDep,
    SettingsDep,
    TemporalDep,
    TrackingLinksDep,
    authorize,
    require,
)
from api.edge.deadline import temporal_deadline
from api.edge.units import DbDep
from api.errors import ApiError
from api.keys import scope as key_scope
from api.orders import service
from api.orders import story as story_api
from api.orders.events import (
    EVENT_EXAMPLES,
    EventAccepted,
    EventIn,
    FollowUpCallAccepted,
    FollowUpCallIn,
)
from api.orders.read_model import detail_of
from api.orders.schemas import OrderCreate, OrderPage, OrderView, Timeline
from api.orders.views import order_view
from api.pagination import decode_cursor, keyset_page
from db.documents import queries as documents
from db.escalations import queries as escalation_repo
from db.orders import queries as repo
from db.orders import story as story_repo
from shared.codec import opened
from workflows.ids import order_workflow_id
from workflows.order.types import EventType, Stage

router = APIRouter(prefix="/v1/orders", tags=["orders"])

Creator = Annotated[Principal, Depends(require("order.create"))]
# The body names the event type: post_event checks it (authorize) against the table.
EventSender = Annotated[Principal, Depends(require("order.event.*"))]
Reader = Annotated[Principal, Depends(require("order.read"))]
Auditor = Annotated[Principal, Depends(require("order.history.read"))]
CallTaker = Annotated[Principal, Depends(require("order.event.follow_up_call"))]


@router.post("", status_code=201, response_model=OrderView,
             responses={200: {"description": "the same order was already created with this body"},
                        409: {"description": "order_exists: same id, different body"},
                        503: {"description": "temporal_unavailable or database_unavailable: "
                                           "retry the same body"}})
async def create_order(body: OrderCreate, response: Response, who: Creator, db: DbDep,
                       client: TemporalDep, settings: SettingsDep) -> OrderView:
    key_scope.check_event_type(who, None, "order.create")
    key_scope.check_customer(who, body.customer.id)
    view, created = await service.create(db, client, settings, body, who)
    response.status_code = 201 if created else 200
    return view


@router.get("", response_model=OrderPage)
def list_orders(
    who: Reader, session: SessionDep,
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
                           created_to=created_to, customer_ids=who.scope.customers,
                           carriers=who.scope.carriers)
    rows = repo.list_orders(session, flt, limit + 1, decode_cursor(cursor) if cursor else None)
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.created_at, r.order_id))
    escalations = escalation_repo.open_escalations(session, [r.order_id for r in page])
    return OrderPage(items=[order_view(r, escalations.get(r.order_id, [])) for r in page],
                     next_cursor=next_cursor)


@router.get("/{order_id}", response_model=OrderView)
async def get_order(order_id: str, who: Reader, db: DbDep,
                    tracking: TrackingLinksDep) -> OrderView:
    # One unit of work in the thread pool (the most polled read: a session dependency and a
    # plain handler would cost three hops).
    view = await db.run(_order_view, order_id, who)
    return view.model_copy(update={"tracking_url": tracking.url(order_id)})


def _order_view(session: Session, order_id: str, who: Principal) -> OrderView:
    key_scope.check_read(session, order_id, who)
    return service.view_of(session, order_id)


@router.post("/{order_id}/events", response_model=EventAccepted,
             responses={404: {"description": "order_not_found"},
                        409: {"description": "invalid_transition or event_id_reused"}})
async def post_event(order_id: str, who: EventSender, db: DbDep, client: TemporalDep,
                     settings: SettingsDep,
                     event: Annotated[EventIn, Body(openapi_examples=EVENT_EXAMPLES)]
                     ) -> EventAccepted:
    authorize(who, f"order.event.{event.type}")
    if key_scope.limited(who):
        await db.run(key_scope.check_order, order_id, who, "order.event", event.type,
                     event.model_dump(mode="json").get("data"))
    if event.type == "receipt_returned":
        await db.run(_check_archived, order_id, event.data.document.sha256)
    return await service.submit_event(db, client, settings, order_id,
                                      event.model_dump(mode="json"), who.name, who.role.value)


def _check_archived(session: Session, order_id: str, sha256: str) -> None:
    service.load_order(session, order_id)
    if not documents.is_archived(session, sha256):
        raise ApiError(422, "document_not_archived", "the receipt must be uploaded first "
                       f"(POST /v1/orders/{order_id}/receipt); no archived document has "
                       "this sha256", sha256=sha256)


@router.post("/{order_id}/follow-up-call", status_code=201,
             response_model=FollowUpCallAccepted,
             responses={404: {"description": "order_not_found"},
                        409: {"description": "invalid_transition: no follow-up is open"}})
async def record_follow_up_call(order_id: str, body: FollowUpCallIn, who: CallTaker,
                                db: DbDep, client: TemporalDep,
                                settings: SettingsDep) -> FollowUpCallAccepted:
    """A phone follow-up (回访电话). `no_answer` schedules another call (customer service is
    told when it is due) up to the policy's count; `refused` ends the follow-up unsuccessful;
    `answered` records the customer's answers as a survey response would."""
    if key_scope.limited(who):
        await db.run(key_scope.check_order, order_id, who, "order.event",
                     EventType.FOLLOW_UP_CALL.value)
    event_id = f"call-{body.call_id or uuid.uuid4().hex}"
    data = body.model_dump(mode="json", exclude={"call_id", "occurred_at"})
    occurred = (body.occurred_at or datetime.now(UTC)).isoformat()
    _, known = await db.run(service.order_and_event, order_id, event_id)
    if known is not None and known.data == data:
        occurred = known.occurred_at.isoformat()  # a retry of the same call
    result = await service.submit_event(db, client, settings, order_id, {
        "event_id": event_id, "type": "follow_up_call", "occurred_at": occurred, "data": data},
        who.name, who.role.value)
    row = await db.run(service.load_order, order_id)
    return FollowUpCallAccepted(duplicate=result.duplicate, stage=result.stage,
                                event_id=event_id, follow_up=detail_of(row).survey)


@router.get("/{order_id}/timeline", response_model=Timeline,
            responses={404: {"description": "order_not_found"},
                       422: {"description": "unknown_timeline_kind (details: kinds, allowed) "
                                            "or timeline_kind_too_long"}})
def get_timeline(
    order_id: str, who: Reader, session: SessionDep,
    kind: Annotated[list[str], Query(
        description="Only these kinds: order, escalation, claim, complaint, notification; "
                    "repeated (`kind=order&kind=claim`) or comma-separated "
                    "(`kind=order,claim`). None: all of them.",
        max_length=20,
        json_schema_extra={"items": {"type": "string", "pattern": story_api.KIND_PATTERN,
                                      "maxLength": story_api.KIND_VALUE_MAX}},
    )] = [],  # noqa: B006 - FastAPI copies a list default per request
    limit: int = Query(default=story_api.STORY_LIMIT, ge=1, le=story_api.STORY_LIMIT),
) -> Timeline:
    """The order's whole story in event-time order (ties by record time): its own entries,
    its escalations' ladder steps (opened, notified whom, climbed, acknowledged, snoozed,
    reassigned, resolved with code, text and by whom), its claims' and complaints' entries and
    the notifications sent about it (channel, recipient, delivery outcome, attempts). Each item
    has its `kind`, actor, source, event time and record time."""
    kinds = story_api.parse_kinds(kind)
    service.load_order(session, order_id)
    key_scope.check_read(session, order_id, who)
    return story_api.timeline_view(story_repo.story(session, order_id, kinds, limit), kinds)


@router.get("/{order_id}/history",
            description="The raw Temporal event history of the order's workflow, in Temporal's "
                        "own JSON history format (as `temporal workflow show --output json`), "
                        "its payloads decrypted (Temporal itself holds them encrypted).")
async def get_history(order_id: str, _: Auditor, db: DbDep, client: TemporalDep,
                      settings: SettingsDep) -> dict[str, Any]:
    await db.run(service.load_order, order_id)
    try:
        async with temporal_deadline(settings):
            history = await client.get_workflow_handle(order_workflow_id(order_id)).fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, "history_not_found",
                           "Temporal holds no history for this order (past retention?)",
                           order_id=order_id) from exc
        raise
    return opened(client, history).to_json_dict()
