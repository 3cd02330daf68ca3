"""Complaints (投诉): open, list, read with timeline and escalations, post their events.

Each complaint is a ComplaintWorkflow (`complaint-{id}`); its events are updates whose
validator decides (no reply before routing, no satisfaction before resolution). The row is
stored before the workflow starts, so no side effect precedes the commit.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.complaints.schemas import (
    COMPLAINT_EVENT_EXAMPLES,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintEventAccepted,
    ComplaintEventIn,
    ComplaintPage,
    ComplaintView,
    DueView,
    Satisfaction,
)
from api.deps import Principal, SessionDep, SettingsDep, TemporalDep, authorize, require
from api.edge.deadline import temporal_deadline
from api.edge.payload_limit import check_payload
from api.edge.units import Db, DbDep
from api.errors import ApiError, found
from api.events.idempotency import body_hash, execute_event_update, seen_before
from api.events.rejections import rejected
from api.events.times import received_at, refuse_occurred_before
from api.keys import scope as key_scope
from api.orders.schemas import TimelineEntryView
from api.orders.service import customer_of, load_order, workflow_input
from api.orders.views import escalation_view
from api.pagination import decode_cursor, keyset_page
from config import Settings
from db.complaints import queries as repo
from db.complaints.models import ComplaintRow
from db.policies import queries as policy_repo
from policies import from_snapshot
from workflows.complaint.types import (
    ComplaintCategory,
    ComplaintEventInput,
    ComplaintEventType,
    ComplaintInput,
    ComplaintStep,
    Department,
)
from workflows.complaint.workflow import ComplaintWorkflow, initial_status, opened_entry
from workflows.ids import complaint_workflow_id
from workflows.order.types import Customer, Stage, Tier
from workflows.policy import SlaPolicy

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

Opener = Annotated[Principal, Depends(require("complaint.open"))]
# The body names the event type: post_event checks it (authorize) against the table.
Actor = Annotated[Principal, Depends(require("complaint.event.*"))]
Reader = Annotated[Principal, Depends(require("complaint.read"))]

ORIGIN_API = "api"


def load_complaint(session: Session, complaint_id: str) -> ComplaintRow:
    return found(repo.get_complaint(session, complaint_id), "complaint", "complaint_id",
                 complaint_id)


def complaint_view(row: ComplaintRow) -> ComplaintView:
    deadlines = {k: datetime.fromisoformat(v) for k, v in (row.deadlines or {}).items()}
    return ComplaintView(
        id=row.id, order_id=row.order_id, customer=row.customer, origin=row.origin,
        category=row.category, description=row.description, survey=row.survey,
        department=row.department, step=row.step, opened_at=row.opened_at,
        routed_at=row.routed_at, first_reply_at=row.first_reply_at, reply=row.reply,
        plan=row.plan, promised_by=row.promised_by, resolved_at=row.resolved_at,
        resolution=row.resolution,
        satisfaction=Satisfaction(
            requested_at=row.satisfaction_requested_at, due_at=deadlines.get("satisfaction"),
            outcome=row.satisfaction_outcome, score=row.satisfaction_score,
            comment=row.satisfaction_comment, at=row.satisfaction_at),
        closed_at=row.closed_at, deadlines=deadlines,
        due=DueView(kind=row.due_kind, due_at=row.due_at)
        if row.due_kind and row.due_at else None,
        breached=row.breached, breaches=row.breaches or [],
        sla_policy={"name": row.sla_policy, "version": row.sla_policy_version},
        workflow_id=complaint_workflow_id(row.id), updated_at=row.updated_at)


def _detail(session: Session, row: ComplaintRow) -> ComplaintDetail:
    timeline = [TimelineEntryView.model_validate(e, from_attributes=True)
                for e in repo.timeline(session, row.id)]
    escalations = [escalation_view(e) for e in repo.escalations(session, row.id)]
    return ComplaintDetail(**complaint_view(row).model_dump(), timeline=timeline,
                           escalations=escalations)


def _tier_policy(session: Session, tier: Tier) -> SlaPolicy:
    """The newest version of the tier's policy, else of `standard`."""
    for name in dict.fromkeys((tier.value, Tier.STANDARD.value)):
        row = policy_repo.latest(session, name)
        if row is not None:
            return policy_repo.as_policy(row)
    raise ApiError(422, "unknown_policy", f"no SLA policy for tier {tier.value} nor standard",
                   tier=tier.value)


def _new_input(session: Session, body: ComplaintCreate, complaint_id: str,
               who: Principal) -> ComplaintInput:
    if body.order_id is not None:
        order_row = load_order(session, body.order_id)
        order = workflow_input(order_row)
        customer, policy = order.customer, order.policy
        stage: Stage | None = Stage(order_row.stage)
    else:
        assert body.customer is not None  # the schema requires one of the two
        customer = Customer(**body.customer.model_dump())
        policy, stage = _tier_policy(session, customer.tier), None
    return ComplaintInput(
        complaint_id=complaint_id, customer=customer, order_id=body.order_id, origin=ORIGIN_API,
        category=body.category.value, description=body.description,
        opened_at=datetime.now(UTC), actor=who.name, source=who.role.value, policy=policy,
        order_stage=stage)


def stored_input(row: ComplaintRow) -> ComplaintInput:
    """The workflow input of a stored complaint (to start a workflow that never started)."""
    return ComplaintInput(
        complaint_id=row.id, customer=customer_of(row.customer),
        order_id=row.order_id, origin=row.origin, category=row.category,
        description=row.description, opened_at=row.opened_at, actor=row.created_by,
        source=row.created_by_role, policy=from_snapshot(row.sla_policy_snapshot),
        order_stage=Stage(row.order_stage) if row.order_stage else None, survey=row.survey)


async def ensure_started(client: Client, settings: Settings, inp: ComplaintInput) -> None:
    """Start the complaint's workflow; one already started for this id is the same one."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await client.start_workflow(
            ComplaintWorkflow.run, inp, id=complaint_workflow_id(inp.complaint_id),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)


def _detail_of(session: Session, complaint_id: str) -> ComplaintDetail:
    return _detail(session, load_complaint(session, complaint_id))


def _record(session: Session, settings: Settings, body: ComplaintCreate, complaint_id: str,
            digest: str, who: Principal) -> ComplaintInput | None:
    """Store a new complaint; None if the id is taken (the caller compares bodies)."""
    if repo.get_complaint(session, complaint_id) is not None:
        return None
    inp = _new_input(session, body, complaint_id, who)
    check_payload(settings, inp, "complaint")  # before it is stored
    repo.add_complaint(session, initial_status(inp), digest, [opened_entry(inp)])
    return inp


@router.post("", status_code=201, response_model=ComplaintDetail,
             responses={200: {"description": "the same complaint was already opened with this "
                                             "id and body"},
                        404: {"description": "order_not_found"},
                        409: {"description": "complaint_exists: same id, different body"}})
async def open_complaint(body: ComplaintCreate, response: Response, who: Opener,
                         db: DbDep, client: TemporalDep,
                         settings: SettingsDep) -> ComplaintDetail:
    if key_scope.limited(who):
        key_scope.check_event_type(who, None, "complaint.open")
        if body.order_id is not None:
            await db.run(key_scope.check_order, body.order_id, who, "complaint.open")
        elif body.customer is not None:
            key_scope.check_customer(who, body.customer.id)
    digest = body_hash(body.model_dump(mode="json"))
    complaint_id = body.complaint_id or f"CP-{uuid.uuid4().hex[:12].upper()}"
    try:
        # Committed before the workflow starts: no side effect may precede the commit.
        inp = await db.run(_record, settings, body, complaint_id, digest, who)
    except IntegrityError:
        inp = None  # a concurrent request with the same id won
    if inp is not None:
        async with temporal_deadline(settings):
            await ensure_started(client, settings, inp)
        response.status_code = 201
        return await db.run(_detail_of, complaint_id)
    row = await db.run(load_complaint, complaint_id)
    if row.create_hash != digest:
        raise ApiError(409, "complaint_exists",
                       f"complaint {complaint_id} exists with a different body",
                       complaint_id=complaint_id)
    if row.step != ComplaintStep.CLOSED.value:
        async with temporal_deadline(settings):  # in case it never started
            await ensure_started(client, settings, stored_input(row))
    response.status_code = 200
    return await db.run(_detail_of, complaint_id)


@router.get("", response_model=ComplaintPage, description="Newest first.")
def list_complaints(
    _: Reader, session: SessionDep,
    step: ComplaintStep | None = None,
    customer_id: str | None = None,
    order_id: str | None = None,
    department: Department | None = None,
    origin: Annotated[str | None, Query(pattern="^(api|survey)$")] = None,
    category: ComplaintCategory | None = None,
    breached: bool | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = None,
) -> ComplaintPage:
    flt = repo.ComplaintFilter(
        step=step.value if step else None, customer_id=customer_id, order_id=order_id,
        department=department.value if department else None, origin=origin,
        category=category.value if category else None, breached=breached)
    rows = repo.list_complaints(session, flt, limit + 1,
                                decode_cursor(cursor) if cursor else None)
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.opened_at, r.id))
    return ComplaintPage(items=[complaint_view(r) for r in page], next_cursor=next_cursor)


@router.get("/{complaint_id}", response_model=ComplaintDetail,
            description="One complaint: its step, deadlines, timeline and the escalations its "
                        "missed deadlines opened.")
def get_complaint(complaint_id: str, _: Reader, session: SessionDep) -> ComplaintDetail:
    return _detail(session, load_complaint(session, complaint_id))


@router.post("/{complaint_id}/events", response_model=ComplaintEventAccepted,
             responses={404: {"description": "complaint_not_found"},
                        409: {"description": "invalid_transition or event_id_reused"},
                        422: {"description": "invalid_promise, or the body is not valid"}})
async def post_event(
    complaint_id: str, who: Actor, db: DbDep, client: TemporalDep,
    settings: SettingsDep,
    event: Annotated[ComplaintEventIn, Body(openapi_examples=COMPLAINT_EVENT_EXAMPLES)],
) -> ComplaintEventAccepted:
    authorize(who, f"complaint.event.{event.type}")
    body = event.model_dump(mode="json")
    digest = body_hash(body)
    row, known, since = await db.run(_complaint_and_event, complaint_id, event.event_id)
    if seen_before(known, digest, event.event_id):
        return await db.run(_accepted, complaint_id, event.event_id, True)
    refuse_occurred_before(event.occurred_at, since, settings.event_clock_skew_seconds)
    inp = ComplaintEventInput(
        event_id=event.event_id, type=ComplaintEventType(event.type),
        occurred_at=event.occurred_at, data=body["data"], actor=who.name,
        source=who.role.value, body_hash=digest, request_id=uuid.uuid4().hex)
    async with temporal_deadline(settings):
        duplicate = await _apply(db, client, settings, row, inp)
    return await db.run(_accepted, complaint_id, event.event_id, duplicate)


def _complaint_and_event(session: Session, complaint_id: str,
                         event_id: str) -> tuple[ComplaintRow, Any, datetime]:
    """The complaint, the event if known, and the earliest time its events may be dated
    from: its order's received time, or when a complaint about no order was opened."""
    row = load_complaint(session, complaint_id)
    since = received_at(session, row.order_id) or row.opened_at
    return row, repo.find_event(session, complaint_id, event_id), since


def _accepted(session: Session, complaint_id: str, event_id: str,
              duplicate: bool) -> ComplaintEventAccepted:
    row = load_complaint(session, complaint_id)
    return ComplaintEventAccepted(event_id=event_id, duplicate=duplicate, step=row.step,
                                  complaint=_detail(session, row))


def _closed(row: ComplaintRow, inp: ComplaintEventInput) -> ApiError:
    return rejected("invalid_transition", f"{inp.type} is not allowed in step {row.step}",
                    current_step=row.step, event_type=inp.type.value)


async def _apply(db: Db, client: Client, settings: Settings, row: ComplaintRow,
                 inp: ComplaintEventInput) -> bool:
    """Apply the event through the workflow's update; True if it had been applied before."""
    if row.step == ComplaintStep.CLOSED.value:
        raise _closed(row, inp)
    for attempt in (1, 2):
        handle = client.get_workflow_handle(complaint_workflow_id(row.id))
        try:
            duplicate, _ = await execute_event_update(handle, ComplaintWorkflow.apply_event, inp,
                                                      settings)
            return duplicate
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND or attempt == 2:
                raise
        row = await db.run(load_complaint, row.id)
        if row.step == ComplaintStep.CLOSED.value:
            raise _closed(row, inp)  # the workflow ended between our read and the update
        # Stored but its workflow never started (Temporal was down): start it now.
        await ensure_started(client, settings, stored_input(row))
    raise AssertionError("unreachable")
