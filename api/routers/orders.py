"""Orders: create, read, list, post events, timeline and raw history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
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
from api.event_idempotency import body_hash
from api.order_events import ensure_started, load_order, submit_event, workflow_input
from api.pagination import decode_cursor, keyset_page
from api.schemas import (
    EVENT_EXAMPLES,
    EventAccepted,
    EventIn,
    FollowUpCallAccepted,
    FollowUpCallIn,
    OrderCreate,
    OrderPage,
    OrderView,
    Timeline,
    TimelineEntryView,
)
from api.views import order_view, workflow_id
from db import documents
from db import escalations as escalation_repo
from db import orders as repo
from db import policies as policy_repo
from db.models import Order
from policies import policy_name_for, snapshot
from workflows.order import created_entry
from workflows.types import SlaPolicy, Stage, Tier

router = APIRouter(prefix="/v1/orders", tags=["orders"])

Writer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.INTEGRATION,
                                              Role.ADMIN))]
Reader = Annotated[Principal, Depends(require(*ALL_ROLES))]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR, Role.ADMIN))]
CallTaker = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN))]


def _view(session: Session, row: Order) -> OrderView:
    return order_view(row, escalation_repo.open_escalations(session, [row.order_id])
                      .get(row.order_id, []))


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
    row, created = await create(session, client, settings, body, who)
    response.status_code = 201 if created else 200
    return _view(session, row)


async def create(session: Session, client: Any, settings: Any, body: OrderCreate,
                 who: Principal) -> tuple[Order, bool]:
    """Record the order and start its workflow; (row, created). The API's and the console's
    one way in: the same body twice is the same order, a different body is `order_exists`."""
    policy = _policy_for(session, body.sla_policy, body.customer.tier)
    digest = body_hash(body.model_dump(mode="json"))
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
            stage=Stage.RECEIVED.value, received_at=body.received_at or now, breached=False,
            detail={},
            create_hash=digest, created_by=who.name, created_by_role=who.role.value,
            created_at=now, updated_at=now,
            projection_seq=0)
        try:
            repo.add_order(session, row)
            repo.add_timeline_entries(session, row.order_id, [created_entry(workflow_input(row))])
            # Commit before starting the workflow: no side effect may precede the commit.
            session.commit()
            created = True
        except IntegrityError:
            session.rollback()
            row = load_order(session, body.order_id)
            created = False
    else:
        created = False
    if not created and row.create_hash != digest:
        raise ApiError(409, "order_exists", f"order {body.order_id} exists with a different body",
                       order_id=body.order_id)
    await ensure_started(client, settings, row)
    return row, created


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
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.created_at, r.order_id))
    escalations = escalation_repo.open_escalations(session, [r.order_id for r in page])
    return OrderPage(items=[order_view(r, escalations.get(r.order_id, [])) for r in page],
                     next_cursor=next_cursor)


@router.get("/{order_id}", response_model=OrderView)
def get_order(order_id: str, _: Reader, session: SessionDep) -> OrderView:
    return _view(session, load_order(session, order_id))


@router.post("/{order_id}/events", response_model=EventAccepted,
             responses={404: {"description": "order_not_found"},
                        409: {"description": "invalid_transition or event_id_reused"}})
async def post_event(order_id: str, who: Writer, session: SessionDep, client: TemporalDep,
                     settings: SettingsDep,
                     event: Annotated[EventIn, Body(openapi_examples=EVENT_EXAMPLES)]
                     ) -> EventAccepted:
    row = load_order(session, order_id)
    if event.type == "receipt_returned":
        sha256 = event.data.document.sha256
        if not documents.is_archived(session, sha256):
            raise ApiError(422, "document_not_archived", "the receipt must be uploaded first "
                           f"(POST /v1/orders/{order_id}/receipt); no archived document has "
                           "this sha256", sha256=sha256)
    return await submit_event(session, client, settings, row, event.model_dump(mode="json"),
                              who.name, who.role.value)


@router.post("/{order_id}/follow-up-call", status_code=201,
             response_model=FollowUpCallAccepted,
             responses={404: {"description": "order_not_found"},
                        409: {"description": "invalid_transition: no follow-up is open"}})
async def record_follow_up_call(order_id: str, body: FollowUpCallIn, who: CallTaker,
                                session: SessionDep, client: TemporalDep,
                                settings: SettingsDep) -> FollowUpCallAccepted:
    """A phone follow-up (回访电话). `no_answer` schedules another call (customer service is
    told when it is due) up to the policy's count; `refused` ends the follow-up unsuccessful;
    `answered` records the customer's answers as a survey response would."""
    row = load_order(session, order_id)
    event_id = f"call-{body.call_id or uuid.uuid4().hex}"
    data = body.model_dump(mode="json", exclude={"call_id", "occurred_at"})
    occurred = (body.occurred_at or datetime.now(UTC)).isoformat()
    if body.call_id is not None:
        known = repo.find_event(session, order_id, event_id)
        if known is not None and known.data == data:
            occurred = known.occurred_at.isoformat()  # a retry of the same call
    result = await submit_event(session, client, settings, row, {
        "event_id": event_id, "type": "follow_up_call", "occurred_at": occurred, "data": data},
        who.name, who.role.value)
    session.expire_all()
    return FollowUpCallAccepted(duplicate=result.duplicate, stage=result.stage,
                                event_id=event_id,
                                follow_up=(load_order(session, order_id).detail or {})
                                .get("survey"))


@router.get("/{order_id}/timeline", response_model=Timeline)
def get_timeline(order_id: str, _: Reader, session: SessionDep) -> Timeline:
    load_order(session, order_id)
    items = [TimelineEntryView.model_validate(e, from_attributes=True)
             for e in repo.timeline(session, order_id)]
    return Timeline(order_id=order_id, items=items)


@router.get("/{order_id}/history",
            description="The raw Temporal event history of the order's workflow, in Temporal's "
                        "own JSON history format (as `temporal workflow show --output json`).")
async def get_history(order_id: str, _: Auditor, session: SessionDep,
                      client: TemporalDep) -> dict[str, Any]:
    load_order(session, order_id)
    try:
        history = await client.get_workflow_handle(workflow_id(order_id)).fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(404, "history_not_found",
                           "Temporal holds no history for this order (past retention?)",
                           order_id=order_id) from exc
        raise
    return history.to_json_dict()
