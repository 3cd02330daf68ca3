"""Claims (理赔): open one by hand, the claims queue, one claim, and its events."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query, Response

from api.claims.schemas import (
    CLAIM_EVENT_EXAMPLES,
    ClaimDetail,
    ClaimEventAccepted,
    ClaimEventIn,
    ClaimOpen,
    ClaimOpened,
    ClaimPage,
)
from api.claims.service import load_claim, open_claim, submit_claim_event
from api.claims.views import claim_detail, claim_view
from api.deps import Principal, SessionDep, SettingsDep, TemporalDep, authorize, require
from api.edge.units import DbDep
from api.keys import scope as key_scope
from api.pagination import decode_cursor, keyset_page
from db.claims import queries as repo
from workflows.claim.types import ClaimCause, ClaimStep, Liability

router = APIRouter(tags=["claims"])

Opener = Annotated[Principal, Depends(require("claim.open"))]
# The body names the event type: post_claim_event checks it (authorize) against the table.
Actor = Annotated[Principal, Depends(require("claim.event.*"))]
Reader = Annotated[Principal, Depends(require("claim.read"))]


@router.post(
    "/v1/orders/{order_id}/claims", status_code=201, response_model=ClaimOpened,
    description="Open a claim by hand. A running order opens it (and stays open until it "
                "closes); a closed or cancelled order's claim is started on its own. Every "
                "call opens a new claim.",
    responses={404: {"description": "order_not_found"},
               409: {"description": "invalid_transition: the order's stage takes no claim"}})
async def open_order_claim(order_id: str, body: ClaimOpen, response: Response, who: Opener,
                           db: DbDep, client: TemporalDep,
                           settings: SettingsDep) -> ClaimOpened:
    if key_scope.limited(who):
        await db.run(key_scope.check_order, order_id, who, "claim.open")
    opened = await open_claim(db, client, settings, order_id, body.cause,
                              body.description, who, body.request_id)
    response.headers["Location"] = f"/v1/claims/{opened.claim_id}"
    return opened


@router.get("/v1/claims", response_model=ClaimPage, description="Newest first.")
def list_claims(
    _: Reader, session: SessionDep,
    state: Literal["open", "closed"] | None = None,
    step: ClaimStep | None = None,
    order_id: str | None = None,
    customer_id: str | None = None,
    cause: ClaimCause | None = None,
    liability: Liability | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    cursor: str | None = None,
) -> ClaimPage:
    flt = repo.ClaimFilter(state=state, step=step.value if step else None, order_id=order_id,
                           customer_id=customer_id, cause=cause.value if cause else None,
                           liability=liability.value if liability else None)
    rows = repo.list_claims(session, flt, limit + 1, decode_cursor(cursor) if cursor else None)
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.opened_at, r.id))
    return ClaimPage(items=[claim_view(r) for r in page], next_cursor=next_cursor)


@router.get("/v1/claims/{claim_id}", response_model=ClaimDetail,
            description="One claim: its steps with their deadlines, documents, breaches and "
                        "the whole timeline.",
            responses={404: {"description": "claim_not_found"}})
def get_claim(claim_id: str, _: Reader, session: SessionDep) -> ClaimDetail:
    row = load_claim(session, claim_id)
    return claim_detail(row, repo.timeline(session, claim_id))


@router.post(
    "/v1/claims/{claim_id}/events", response_model=ClaimEventAccepted,
    description="Move the claim on: customer_contacted, liability_decided, compensation_set, "
                "payout_issued, withdrawn, note, basis_set (documents: POST .../documents). "
                "Idempotent per `event_id`. The compensation standard's basis (weight, "
                "declared value) is the order's, or a supervisor's `basis_set`; an operator "
                "may not send another.",
    responses={403: {"description": "override_forbidden: only a supervisor (or admin) key "
                                    "may set compensation above the standard; "
                                    "basis_change_forbidden: only they may set or change "
                                    "its basis"},
               404: {"description": "claim_not_found"},
               409: {"description": "invalid_transition (out of order, or closed), "
                                    "event_id_reused"},
               422: {"description": "compensation_above_cap, override_reason_required, "
                                    "compensation_basis_required, currency_mismatch, "
                                    "occurred_before_order, occurred_too_early"}})
async def post_claim_event(claim_id: str, who: Actor, db: DbDep, client: TemporalDep,
                           settings: SettingsDep,
                           event: Annotated[ClaimEventIn,
                                            Body(openapi_examples=CLAIM_EVENT_EXAMPLES)]
                           ) -> ClaimEventAccepted:
    authorize(who, f"claim.event.{event.type}")
    return await submit_claim_event(db, client, settings, claim_id,
                                     event.model_dump(mode="json"), who)
