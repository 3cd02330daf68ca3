"""One order: stage progress, promises against actuals, deadlines, open escalations and the
timeline (the rest is in console/orders/view.py); and adding a note."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, TemporalDep, tracking_links
from api.edge.units import DbDep
from api.errors import ApiError
from api.orders.read_model import customer_of, detail_of
from api.orders.service import submit_event
from console.audit import story
from console.board.view import STAGES
from console.deps import Page, PageDep
from console.i18n import catalogue
from console.orders import view as order_view
from console.orders.live import POLL_SECONDS, change_mark
from db.escalations import queries as escalation_repo
from db.orders import queries as repo
from db.orders.models import Order
from db.orders.queries import STAGE_COLUMNS
from shared.survey import SURVEY_QUESTIONS

router = APIRouter()
NOTE_MAX = 2000
SOURCE = "console"
# What a successful action redirects back with (`?done=<action>`): the page then says it in the
# viewer's words (`order.live.done.<action>`) and moves focus there.
DONE_ACTIONS = frozenset({"created", "confirm", "cancel", "call", "receipt", "event", "note"})
_PATH_STAGES = STAGES[:-1]  # cancelled is an exit, not a step on the bar


def _context(page: Page, session: SessionDep, order: Order,
             live_mark: str | None) -> dict[str, object]:
    detail = detail_of(order)
    settings = page.settings
    done = page.request.query_params.get("done", "")
    stage_times = {stage: getattr(order, STAGE_COLUMNS[stage]) for stage in STAGES}
    reached = [s for s in _PATH_STAGES if stage_times[s] is not None]
    return {
        "order": order, "customer": customer_of(order), "now": datetime.now(UTC),
        "steps": [{"stage": s, "at": stage_times[s], "current": s == order.stage,
                   "done": s in reached} for s in _PATH_STAGES],
        "cancelled_at": order.cancelled_at,
        "promises": [("promise_ship", order.promised_ship_by, order.shipped_at),
                     ("promise_delivery", order.promised_delivery_by, order.delivered_at)],
        "breaches": detail.breaches,
        "escalations": escalation_repo.open_escalations(session, [order.order_id]).get(
            order.order_id, []),
        # Created but not yet projected by its workflow: no deadlines to show *yet*.
        "setting_up": not order.projection_seq,
        "done": done if done in DONE_ACTIONS else None,
        "live_mark": live_mark,
        "live_url": f"/console/orders/{quote(order.order_id)}/live",
        "live_seconds": POLL_SECONDS,
        # Issue 19 §2: the customer's tracking page, for staff to give on the phone.
        "tracking_url": tracking_links(page.request).url(order.order_id),
        # Issue 18 §4: the Temporal Web UI only here, and only for roles that may see it.
        "temporal_url": (f"{settings.temporal_ui_url}/namespaces/{settings.temporal_namespace}"
                         f"/workflows/order-{quote(order.order_id)}")
        if page.user is not None and page.user.may("temporal_ui.view") else None,
    }


def render_order(page: PageDep, session: SessionDep, order: Order, live_mark: str | None,
                 status: int = 200,
                 note_error: str | None = None, note_text: str = "",
                 action_error: list[str] | None = None, action_form: str | None = None,
                 action_values: dict[str, str] | None = None) -> Response:
    """The order page; a refused action shows `action_error` (catalogue keys, one sentence
    each) at the form it came from (`action_form`), with what was typed (`action_values`)."""
    offered = order_view.offered(page.user, order)
    record_forms = order_view.record_forms(page.user, order)
    shown = {name for name, on in offered.items() if on} | {
        f"record-{f['type']}" for f in record_forms}
    if page.user is not None and page.user.can("note"):
        shown.add("note")
    if action_form is not None and action_form not in shown:
        action_form = "page"  # the order moved on and the form is gone: say it at the top
    return page.render("order.html", status=status, note_error=note_error, note_text=note_text,
                       note_event_id=f"console-note-{secrets.token_hex(8)}", note_max=NOTE_MAX,
                       action_event_id=f"console-{secrets.token_hex(8)}",
                       action_error=action_error, action_form=action_form,
                       action_values=action_values or {},
                       offered=offered, record_forms=record_forms,
                       scores=SURVEY_QUESTIONS, **order_view.details(session, order),
                       **_context(page, session, order, live_mark),
                       **story.page_context(session, page.viewer, order.order_id,
                                            page.request.query_params.getlist("kind")))


def refusal_words(page: Page, exc: ApiError) -> list[str]:
    """The workflow's or the API's refusal in the viewer's words: `order.<code>_title` and
    `_body` when the catalogue has them, else a general "not done"; 503 says try again."""
    if exc.status == 503:
        return ["unavailable_title", "unavailable_body"]
    state = f"order.{exc.code}"
    if f"{state}_title" not in catalogue(page.viewer.locale):
        state = "order.rejected"
    return [f"{state}_title", f"{state}_body"]


def order_response(session: Session, page: Page, order_id: str, status: int = 200,
                   **shown: Any) -> Response:
    """The order's page (404 page if there is none); one unit of work, for `Db.run` too.

    The change mark is read before anything the page shows (each read sees the newest commit):
    a projection landing in between then reads as a change and the page reloads, where read
    after it the mark would already include a change the page does not show, and a page still
    being set up would wait for a next change that may never come."""
    mark = change_mark(session, order_id)
    order = repo.get_order(session, order_id)
    if order is None:
        return page.message(404, "order_not_found")
    return render_order(page, session, order, mark, status, **shown)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: str, page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return order_response(session, page, order_id)


@router.get("/orders/{order_id}/notes")
@router.get("/orders/{order_id}/confirm")
@router.get("/orders/{order_id}/cancel")
@router.get("/orders/{order_id}/follow-up-call")
@router.get("/orders/{order_id}/events/{event_type}")
def back_to_order(order_id: str, page: PageDep) -> RedirectResponse:
    """A refused action re-renders the order page at its form's address: reloading it, or
    switching the language there, comes back to the order page instead of a bare 405."""
    page.signed_in()
    return RedirectResponse(f"/console/orders/{quote(order_id)}", 303)


@router.post("/orders/{order_id}/notes", response_class=HTMLResponse)
async def add_note(order_id: str, page: PageDep, db: DbDep,
                   temporal: TemporalDep) -> Response:
    user = page.allow("note")
    form = await page.form()
    text = form.get("text", "").strip()
    if not text or len(text) > NOTE_MAX:
        error = "error_note_empty" if not text else "error_note_too_long"
        return await db.run(order_response, page, order_id, 422, note_error=error,
                            note_text=text)
    # The event id comes with the form, so a resubmitted form is the same note, not a second.
    event_id = form.get("event_id", "")
    if not event_id.startswith("console-note-") or len(event_id) > 64:
        event_id = f"console-note-{secrets.token_hex(8)}"
    body = {"event_id": event_id, "type": "note", "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"text": text}}
    try:
        await submit_event(db, temporal, page.settings, order_id, body, actor=user.name,
                           source=SOURCE)
    except ApiError as exc:
        if exc.code == "order_not_found":
            return page.message(404, "order_not_found")
        if exc.code != "event_id_reused":  # the same form again: the note already recorded
            return await db.run(order_response, page, order_id, exc.status,
                                action_error=refusal_words(page, exc), action_form="note",
                                note_text=text)
    return RedirectResponse(f"/console/orders/{quote(order_id)}?done=note", 303)
