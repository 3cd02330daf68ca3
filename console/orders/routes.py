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

from api.deps import SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.orders.read_model import customer_of, detail_of
from api.orders.service import submit_event
from console.audit import story
from console.board.view import STAGES
from console.deps import Page, PageDep
from console.orders import view as order_view
from db.escalations import queries as escalation_repo
from db.orders import queries as repo
from db.orders.models import Order
from db.orders.queries import STAGE_COLUMNS
from shared.survey import SURVEY_QUESTIONS

router = APIRouter()
NOTE_MAX = 2000
SOURCE = "console"
_PATH_STAGES = STAGES[:-1]  # cancelled is an exit, not a step on the bar


def _context(session: SessionDep, order: Order) -> dict[str, object]:
    detail = detail_of(order)
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
    }


def render_order(page: PageDep, session: SessionDep, order: Order, status: int = 200,
                 note_error: str | None = None, note_text: str = "",
                 action_error: str | None = None) -> Response:
    return page.render("order.html", status=status, note_error=note_error, note_text=note_text,
                       note_event_id=f"console-note-{secrets.token_hex(8)}", note_max=NOTE_MAX,
                       action_event_id=f"console-{secrets.token_hex(8)}",
                       action_error=action_error, offered=order_view.offered(page.user, order),
                       record_forms=order_view.record_forms(page.user, order),
                       scores=SURVEY_QUESTIONS, **order_view.details(session, order),
                       **_context(session, order),
                       **story.page_context(session, page.viewer, order.order_id,
                                            page.request.query_params.getlist("kind")))


def order_response(session: Session, page: Page, order_id: str, status: int = 200,
                   **shown: Any) -> Response:
    """The order's page (404 page if there is none); one unit of work, for `Db.run` too."""
    order = repo.get_order(session, order_id)
    if order is None:
        return page.message(404, "order_not_found")
    return render_order(page, session, order, status, **shown)


@router.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: str, page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return order_response(session, page, order_id)


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
        if exc.code != "event_id_reused":
            raise
    return RedirectResponse(f"/console/orders/{quote(order_id)}#timeline", 303)
