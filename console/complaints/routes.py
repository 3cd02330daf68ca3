"""The complaints queue, one complaint's page and its step actions (route, reply, resolve,
satisfaction, note), posted through api/complaints/service.py as the viewer, with "console" as
source; see console/cases/forms.py for what a refusal and a success look like."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from api.complaints.schemas import ComplaintEventIn
from api.complaints.service import submit_complaint_event
from api.deps import SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from console.cases import forms
from console.cases.forms import Failed
from console.complaints import view
from console.deps import Page, PageDep
from console.i18n import Viewer
from console.orders.actions import form_event_id
from db.complaints import queries as repo

router = APIRouter()
_EVENT: TypeAdapter[Any] = TypeAdapter(ComplaintEventIn)
FIELD_LABELS = {
    "department": "complaints.field.department", "category": "complaints.field.category",
    "note": "complaints.field.note", "text": "complaints.field.text",
    "plan": "complaints.field.plan", "promised_by": "complaints.field.promised_by",
    "channel": "complaints.field.channel", "score": "complaints.field.score",
    "comment": "complaints.field.comment",
}


def complaint_page(session: Session, page: Page, complaint_id: str, status: int = 200,
                   failed: Failed | None = None) -> Response:
    """The complaint's page (a 404 page if there is none); one unit of work, for `Db.run`."""
    row = repo.get_complaint(session, complaint_id)
    if row is None:
        return page.message(404, "complaints.not_found")
    return page.render("complaint.html", status=status,
                       action_id=f"console-{secrets.token_hex(8)}",
                       **view.complaint_context(session, page.viewer, page.user, row,
                                                page.request.query_params, failed))


@router.get("/complaints", response_class=HTMLResponse)
def complaints_list(page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return page.render("complaints.html",
                       **view.list_context(session, page.request.query_params))


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
def complaint(complaint_id: str, page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return complaint_page(session, page, complaint_id)


def _data(viewer: Viewer, action: str, form: dict[str, str]) -> dict[str, Any]:
    """The event's `data` as the API's body has it, from the action's form fields.

    Raises:
        ValueError: a promised time that is not a time.
    """
    opt = forms.optional
    if action == "routed":
        return {"department": form.get("department", ""), "category": opt(form, "category"),
                "note": opt(form, "note")}
    if action == "first_reply":
        promised = opt(form, "promised_by")
        promised_by: datetime | str = forms.local_time(viewer, promised) if promised else ""
        return {"text": form.get("text", "").strip(), "plan": form.get("plan", "").strip(),
                "promised_by": promised_by, "channel": opt(form, "channel")}
    if action == "resolved":
        return {"text": form.get("text", "").strip()}
    if action == "satisfaction":
        score = form.get("score", "")
        return {"score": int(score) if score.isdigit() else score,
                "comment": opt(form, "comment")}
    return {"text": form.get("text", "").strip()}  # note


@router.post("/complaints/{complaint_id}/events/{action}", response_class=HTMLResponse)
async def complaint_action(complaint_id: str, action: str, page: PageDep, db: DbDep,
                           temporal: TemporalDep) -> Response:
    if action not in view.ACTIONS:
        return page.message(404, "complaints.not_found")
    user = page.signed_in()
    if not user.may(f"complaint.event.{action}"):
        return page.message(403, "forbidden")
    form = await page.form()
    kept = {k: v for k, v in form.items() if k != "csrf"}
    try:
        event = _EVENT.validate_python({
            "event_id": form_event_id(form, f"{action}-"), "type": action,
            "occurred_at": forms.now_iso(), "data": _data(page.viewer, action, form)})
    except ValidationError as exc:
        failed = forms.invalid(page.viewer, "complaints", action, exc, kept, FIELD_LABELS)
        return await db.run(complaint_page, page, complaint_id, failed.status, failed)
    except ValueError:
        failed = forms.invalid(page.viewer, "complaints", action,
                               _bad_time(), kept, FIELD_LABELS)
        return await db.run(complaint_page, page, complaint_id, failed.status, failed)
    try:
        await submit_complaint_event(db, temporal, page.settings, complaint_id, event,
                                     forms.principal(user), forms.SOURCE)
    except ApiError as exc:
        if exc.code == "complaint_not_found":
            return page.message(404, "complaints.not_found")
        if exc.status == 503:
            return page.message(503, "unavailable")
        if exc.code != "event_id_reused":  # the same form sent again: already recorded
            failed = forms.refused(page.viewer, "complaints", action, exc, kept)
            return await db.run(complaint_page, page, complaint_id, failed.status, failed)
    return RedirectResponse(
        f"/console/complaints/{quote(complaint_id)}?done={action}#done", 303)


@router.get("/complaints/{complaint_id}/events/{action}")
def back_to_complaint(complaint_id: str, page: PageDep) -> RedirectResponse:
    """A refused action's page sits at its form's address: reloading it, or switching the
    language there, comes back to the complaint's page instead of a bare 405."""
    page.signed_in()
    return RedirectResponse(f"/console/complaints/{quote(complaint_id)}", 303)


def _bad_time() -> ValidationError:
    return ValidationError.from_exception_data("form", [
        {"type": "value_error", "loc": ("data", "promised_by"), "input": None,
         "ctx": {"error": "not a time"}}])
