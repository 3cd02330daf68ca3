"""The claims queue and one claim's page, its step actions, and its documents.

Actions post through the API's own paths (api/claims/service.py submit_claim_event,
api/claims/document_store.py) as the viewer, with "console" as source; see
console/cases/forms.py for what a refusal and a success look like.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from api.claims import document_store
from api.claims.schemas import ClaimEventIn
from api.claims.service import load_claim, submit_claim_event
from api.deps import ArchiveDep, SessionDep, TemporalDep
from api.documents.uploads import read_upload
from api.edge.units import DbDep
from api.errors import ApiError
from console import session as sessions
from console.cases import forms
from console.cases.forms import Failed
from console.claims import view
from console.deps import Page, PageDep
from console.orders.actions import form_event_id
from db.claims import queries as repo

log = logging.getLogger("waybill.console.claims")
router = APIRouter()
_EVENT = TypeAdapter(ClaimEventIn)
# The body's field names, as the forms label them (named in a refusal of the form).
FIELD_LABELS = {
    "channel": "claims.field.channel", "note": "claims.field.note",
    "liability": "claims.field.liability", "amount_minor": "claims.field.amount",
    "reason": "claims.field.reason", "voucher": "claims.field.voucher",
    "text": "claims.field.text", "weight_kg": "claims.field.weight",
    "declared_value_minor": "claims.field.declared_value", "kind": "claims.field.kind",
}


def claim_page(session: Session, page: Page, claim_id: str, status: int = 200,
               failed: Failed | None = None) -> Response:
    """The claim's page (a 404 page if there is none); one unit of work, for `Db.run` too."""
    row = repo.get_claim(session, claim_id)
    if row is None:
        return page.message(404, "claims.not_found")
    return page.render("claim.html", status=status,
                       action_id=f"console-{secrets.token_hex(8)}",
                       **view.claim_context(session, page.viewer, page.user, row,
                                            page.request.query_params, failed))


@router.get("/claims", response_class=HTMLResponse)
def claims_list(page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return page.render("claims.html", **view.list_context(session, page.request.query_params))


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
def claim(claim_id: str, page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return claim_page(session, page, claim_id)


def _data(action: str, form: dict[str, str]) -> dict[str, Any]:
    """The event's `data` as the API's body has it, from the action's form fields.

    Raises:
        ValueError: an amount or weight that is not a number (named by `.args[0]`).
    """
    opt = forms.optional
    if action == "customer_contacted":
        return {"channel": form.get("channel", ""), "note": opt(form, "note")}
    if action == "liability_decided":
        return {"liability": form.get("liability", ""), "note": opt(form, "note")}
    if action == "compensation_set":
        data: dict[str, Any] = {"amount_minor": _minor(form, "amount", required=True),
                                "currency": form.get("currency", ""), "note": opt(form, "note")}
        if opt(form, "override_reason"):
            data["override"] = {"reason": opt(form, "override_reason")}
        return data
    if action == "payout_issued":
        return {"voucher": form.get("voucher", "").strip(), "note": opt(form, "note")}
    if action == "withdrawn":
        return {"reason": form.get("reason", "").strip()}
    if action == "note":
        return {"text": form.get("text", "").strip()}
    # basis_set
    weight = opt(form, "weight_kg")
    try:
        weight_kg = float(weight) if weight else None
    except ValueError as exc:
        raise ValueError("weight_kg") from exc
    return {"weight_kg": weight_kg,
            "declared_value_minor": _minor(form, "declared_value", required=False),
            "reason": form.get("reason", "").strip()}


def _minor(form: dict[str, str], name: str, required: bool) -> int | None:
    text = form.get(name, "").strip()
    if not text and not required:
        return None
    try:
        return forms.money_minor(text)
    except ValueError as exc:
        raise ValueError("amount_minor" if name == "amount" else "declared_value_minor") \
            from exc


@router.post("/claims/{claim_id}/events/{action}", response_class=HTMLResponse)
async def claim_action(claim_id: str, action: str, page: PageDep, db: DbDep,
                       temporal: TemporalDep) -> Response:
    if action not in view.ACTIONS:
        return page.message(404, "claims.not_found")
    user = page.signed_in()
    if not user.may(f"claim.event.{action}"):
        return page.message(403, "forbidden")
    form = await page.form()
    kept = {k: v for k, v in form.items() if k != "csrf"}
    try:
        body = _EVENT.validate_python({
            "event_id": form_event_id(form, f"{action}-"), "type": action,
            "data": _data(action, form)}).model_dump(mode="json")
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValueError) and not isinstance(exc, ValidationError):
            exc = _named(exc)
        failed = forms.invalid(page.viewer, "claims", action, exc, kept, FIELD_LABELS)
        return await db.run(claim_page, page, claim_id, failed.status, failed)
    try:
        await submit_claim_event(db, temporal, page.settings, claim_id, body,
                                 forms.principal(user), forms.SOURCE)
    except ApiError as exc:
        if exc.code == "claim_not_found":
            return page.message(404, "claims.not_found")
        if exc.status == 503:
            return page.message(503, "unavailable")
        if exc.code != "event_id_reused":  # the same form sent again: already recorded
            failed = forms.refused(page.viewer, "claims", action, exc, kept)
            return await db.run(claim_page, page, claim_id, failed.status, failed)
    return _done(claim_id, action)


def _named(exc: ValueError) -> ValidationError:
    """A number that did not parse, as the validation error the API would give for it."""
    field = str(exc.args[0]) if exc.args else "amount_minor"
    return ValidationError.from_exception_data("form", [
        {"type": "value_error", "loc": ("data", field), "input": None,
         "ctx": {"error": "not a number"}}])


@router.get("/claims/{claim_id}/events/{action}")
@router.get("/claims/{claim_id}/documents")
def back_to_claim(claim_id: str, page: PageDep) -> RedirectResponse:
    """A refused action's page sits at its form's address: reloading it, or switching the
    language there, comes back to the claim's page instead of a bare 405."""
    page.signed_in()
    return RedirectResponse(f"/console/claims/{quote(claim_id)}", 303)


def _done(claim_id: str, action: str) -> RedirectResponse:
    return RedirectResponse(f"/console/claims/{quote(claim_id)}?done={action}#done", 303)


@router.post("/claims/{claim_id}/documents", response_class=HTMLResponse)
async def upload(claim_id: str, page: PageDep, db: DbDep, temporal: TemporalDep,
                 archive: ArchiveDep) -> Response:
    user = page.signed_in()
    if not user.may("claim.document.upload"):
        return page.message(403, "forbidden")
    try:
        await db.run(load_claim, claim_id)
        file = await read_upload(page.request, page.settings.receipt_max_bytes)
        # Nothing is stored before this check: reading the upload only hashes it.
        if not sessions.csrf_ok(page.settings, user.nonce, file.fields.get("csrf")):
            return page.message(403, "csrf")
        await document_store.add_document(db, temporal, page.settings, archive, claim_id, file,
                                          forms.principal(user), forms.SOURCE)
    except ApiError as exc:
        if exc.code == "claim_not_found":
            return page.message(404, "claims.not_found")
        if exc.status == 503 and exc.code == "temporal_unavailable":
            return page.message(503, "unavailable")
        failed = forms.refused(page.viewer, "claims", "document", exc, {})
        return await db.run(claim_page, page, claim_id, failed.status, failed)
    return _done(claim_id, "document")


@router.get("/claims/{claim_id}/documents/{sha256}")
async def document(claim_id: str, sha256: str, page: PageDep, db: DbDep,
                   archive: ArchiveDep) -> Response:
    """The document as uploaded (the API's download needs a bearer key; this serves the same
    verified bytes to a signed-in viewer)."""
    page.signed_in()
    try:
        return await document_store.download(db, archive, claim_id, sha256)
    except ApiError as exc:
        if exc.code in ("claim_not_found", "document_not_found"):
            return page.message(404, "claims.not_found")
        return page.message(exc.status, "claims.document_unreadable")
