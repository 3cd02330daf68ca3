"""Complaints (投诉): open, list, read with timeline and escalations, post their events.

HTTP only: who may call, the request's parameters and the response's status; what each does is
api/complaints/service.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Response

from api.complaints import service
from api.complaints.schemas import (
    COMPLAINT_EVENT_EXAMPLES,
    ComplaintCreate,
    ComplaintDetail,
    ComplaintEventAccepted,
    ComplaintEventIn,
    ComplaintPage,
)
from api.deps import Principal, SessionDep, SettingsDep, TemporalDep, authorize, require
from api.edge.units import DbDep
from api.keys import scope as key_scope
from db.complaints import queries as repo
from workflows.complaint.types import ComplaintCategory, ComplaintStep, Department

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])

Opener = Annotated[Principal, Depends(require("complaint.open"))]
# The body names the event type: post_event checks it (authorize) against the table.
Actor = Annotated[Principal, Depends(require("complaint.event.*"))]
Reader = Annotated[Principal, Depends(require("complaint.read"))]


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
    opened = await service.open_complaint(db, client, settings, body, who)
    response.status_code = 201 if opened.created else 200
    return opened.complaint


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
    return service.list_complaints(session, flt, limit, cursor)


@router.get("/{complaint_id}", response_model=ComplaintDetail,
            description="One complaint: its step, deadlines, timeline and the escalations its "
                        "missed deadlines opened.")
def get_complaint(complaint_id: str, _: Reader, session: SessionDep) -> ComplaintDetail:
    return service.load_detail(session, complaint_id)


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
    return await service.submit_complaint_event(db, client, settings, complaint_id, event, who)
