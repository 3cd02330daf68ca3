"""Opening a complaint, posting its events, loading and listing complaints: the paths every
complaint endpoint takes, and what the console calls.

Each complaint is a ComplaintWorkflow (`complaint-{id}`); its events are updates whose
validator decides (no reply before routing, no satisfaction before resolution). The row is
stored before the workflow starts, so no side effect precedes the commit.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.complaints.schemas import (
    ComplaintCreate,
    ComplaintDetail,
    ComplaintEventAccepted,
    ComplaintEventIn,
    ComplaintPage,
)
from api.complaints.views import complaint_detail, complaint_view
from api.deps import Principal
from api.edge.deadline import temporal_deadline
from api.edge.payload_limit import check_payload
from api.edge.units import Db
from api.errors import ApiError, found
from api.events.idempotency import body_hash, execute_event_update, new_request_id, seen_before
from api.events.rejections import rejected
from api.events.times import received_at, refuse_occurred_before
from api.orders.service import customer_of, load_order, workflow_input
from api.pagination import decode_cursor, keyset_page
from config import Settings
from db.complaints import queries as repo
from db.complaints.models import ComplaintRow
from db.policies import queries as policy_repo
from policies import from_snapshot
from workflows.complaint.types import (
    ComplaintEventInput,
    ComplaintEventType,
    ComplaintInput,
    ComplaintStep,
)
from workflows.complaint.workflow import ComplaintWorkflow, initial_status, opened_entry
from workflows.ids import complaint_workflow_id
from workflows.order.types import Customer, Stage, Tier
from workflows.policy import SlaPolicy

ORIGIN_API = "api"


# -- loading ----------------------------------------------------------------------------------


def load_complaint(session: Session, complaint_id: str) -> ComplaintRow:
    return found(repo.get_complaint(session, complaint_id), "complaint", "complaint_id",
                 complaint_id)


def detail(session: Session, row: ComplaintRow) -> ComplaintDetail:
    """The complaint with its timeline and the escalations its missed deadlines opened."""
    return complaint_detail(row, repo.timeline(session, row.id),
                            repo.escalations(session, row.id))


def load_detail(session: Session, complaint_id: str) -> ComplaintDetail:
    return detail(session, load_complaint(session, complaint_id))


def list_complaints(session: Session, flt: repo.ComplaintFilter, limit: int,
                    cursor: str | None) -> ComplaintPage:
    """Newest first, `limit` a page, from `cursor` (the previous page's `next_cursor`)."""
    rows = repo.list_complaints(session, flt, limit + 1,
                                decode_cursor(cursor) if cursor else None)
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.opened_at, r.id))
    return ComplaintPage(items=[complaint_view(r) for r in page], next_cursor=next_cursor)


# -- opening ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """An opened complaint; `created` is False when the same id and body had opened it before."""

    complaint: ComplaintDetail
    created: bool


async def open_complaint(db: Db, client: Client, settings: Settings, body: ComplaintCreate,
                         who: Principal) -> Opened:
    """Store the complaint, then start its workflow; a repeat (same id, same body) returns the
    complaint already opened, and starts its workflow if it never started.

    Raises:
        ApiError: 404 order_not_found, 409 complaint_exists (same id, another body), 422
            unknown_policy.
    """
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
        return Opened(await db.run(load_detail, complaint_id), created=True)
    row = await db.run(load_complaint, complaint_id)
    if row.create_hash != digest:
        raise ApiError(409, "complaint_exists",
                       f"complaint {complaint_id} exists with a different body",
                       complaint_id=complaint_id)
    if row.step != ComplaintStep.CLOSED.value:
        async with temporal_deadline(settings):  # in case it never started
            await ensure_started(client, settings, stored_input(row))
    return Opened(await db.run(load_detail, complaint_id), created=False)


def _record(session: Session, settings: Settings, body: ComplaintCreate, complaint_id: str,
            digest: str, who: Principal) -> ComplaintInput | None:
    """Store a new complaint; None if the id is taken (the caller compares bodies)."""
    if repo.get_complaint(session, complaint_id) is not None:
        return None
    inp = _new_input(session, body, complaint_id, who)
    check_payload(settings, inp, "complaint")  # before it is stored
    repo.add_complaint(session, initial_status(inp), digest, [opened_entry(inp)])
    return inp


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


def _tier_policy(session: Session, tier: Tier) -> SlaPolicy:
    """The newest version of the tier's policy, else of `standard`."""
    for name in dict.fromkeys((tier.value, Tier.STANDARD.value)):
        row = policy_repo.latest(session, name)
        if row is not None:
            return policy_repo.as_policy(row)
    raise ApiError(422, "unknown_policy", f"no SLA policy for tier {tier.value} nor standard",
                   tier=tier.value)


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


# -- events -----------------------------------------------------------------------------------


async def submit_complaint_event(db: Db, client: Client, settings: Settings,
                                 complaint_id: str, event: ComplaintEventIn,
                                 who: Principal,
                                 source: str | None = None) -> ComplaintEventAccepted:
    """Apply one event to a complaint through its workflow's update.

    A repeat of an event id with the same body is a duplicate (applied once); a different
    body under that id is a 409, as for orders. `source`: where it came from (the console
    says "console"); the caller's role by default, as the API records it.
    """
    body = event.model_dump(mode="json")
    digest = body_hash(body)
    row, known, since = await db.run(_complaint_and_event, complaint_id, event.event_id)
    if seen_before(known, digest, event.event_id):
        return await db.run(_accepted, complaint_id, event.event_id, True)
    refuse_occurred_before(event.occurred_at, since, settings.event_clock_skew_seconds)
    inp = ComplaintEventInput(
        event_id=event.event_id, type=ComplaintEventType(event.type),
        occurred_at=event.occurred_at, data=body["data"], actor=who.name,
        source=source or who.role.value, body_hash=digest, request_id=new_request_id())
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
                                  complaint=detail(session, row))


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
