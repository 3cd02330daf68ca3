"""Order actions from the console: confirm, cancel with a reason, record a follow-up call.

Each is a CSRF-checked form posting through api/order_events.submit_event, as the API does, with
the viewer's key name as actor and "console" as source. The form carries its event id, so a
resubmitted form records once. Done, the order page says so (`?done=<action>`); refused (by the
form's check or the workflow), the order page comes back with the refusal at the form and what
was typed still in it (issue 18 §5).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import TemporalDep
from api.edge.units import Db, DbDep
from api.errors import ApiError
from api.orders.events import FollowUpCallData
from api.orders.service import submit_event
from console.deps import Page, PageDep
from console.orders.routes import SOURCE, order_response, refusal_words
from shared.survey import SURVEY_QUESTIONS

router = APIRouter()
REASON_MAX = 500
_EVENT_ID = re.compile(r"^console-[0-9a-f]{16}$")


def form_event_id(form: dict[str, str], prefix: str) -> str:
    """The form's id under the action's prefix, so one page's forms never share an event id."""
    given = form.get("action_id", "")
    return prefix + (given if _EVENT_ID.match(given) else f"console-{secrets.token_hex(8)}")


async def post_event(page: Page, db: Db, temporal: TemporalDep, order_id: str,
                     body: dict[str, Any], done: str, form_name: str,
                     form: dict[str, str]) -> Response:
    """Submit the event; then the order page saying `done`, or again with the refusal at
    `form_name` and the `form` as it was posted."""
    user = page.user
    assert user is not None  # page.allow ran first
    body = {**body, "occurred_at": datetime.now(UTC).isoformat()}
    try:
        await submit_event(db, temporal, page.settings, order_id, body, actor=user.name,
                           source=SOURCE)
    except ApiError as exc:
        if exc.code == "order_not_found":
            return page.message(404, "order_not_found")
        # The same form sent again (a later occurred_at) is the event already recorded.
        if exc.code != "event_id_reused":
            return await db.run(order_response, page, order_id, exc.status,
                                action_error=refusal_words(page, exc), action_form=form_name,
                                action_values=form)
    return RedirectResponse(f"/console/orders/{quote(order_id)}?done={done}", 303)


async def refused_form(db: Db, page: Page, order_id: str, key: str, form_name: str,
                       form: dict[str, str]) -> Response:
    """The order page again, 422, with the form's own check's words at the form."""
    return await db.run(order_response, page, order_id, 422, action_error=[key],
                  action_form=form_name, action_values=form)


@router.post("/orders/{order_id}/confirm", response_class=HTMLResponse)
async def confirm(order_id: str, page: PageDep, db: DbDep,
                  temporal: TemporalDep) -> Response:
    user = page.allow("order.confirm")
    form = await page.form()
    return await post_event(page, db, temporal, order_id, {
        "event_id": form_event_id(form, "confirm-"), "type": "confirmed",
        "data": {"by": user.name}}, "confirm", "confirm", form)


@router.post("/orders/{order_id}/cancel", response_class=HTMLResponse)
async def cancel(order_id: str, page: PageDep, db: DbDep,
                 temporal: TemporalDep) -> Response:
    page.allow("order.cancel")
    form = await page.form()
    reason = form.get("reason", "").strip()
    if not reason or len(reason) > REASON_MAX:
        return await refused_form(db, page, order_id, "order.error_reason", "cancel", form)
    return await post_event(page, db, temporal, order_id, {
        "event_id": form_event_id(form, "cancel-"), "type": "cancelled",
        "data": {"reason": reason}}, "cancel", "cancel", form)


def _call_data(form: dict[str, str]) -> dict[str, Any]:
    outcome = form.get("outcome", "")
    scores = {q: int(form[f"score_{q}"]) for q in SURVEY_QUESTIONS
              if form.get(f"score_{q}", "").isdigit()}
    goods = form.get("goods_ok", "")
    data: dict[str, Any] = {"outcome": outcome, "scores": scores or None,
                            "goods_ok": {"yes": True, "no": False}.get(goods),
                            "suggestions": form.get("suggestions", "").strip() or None,
                            "note": form.get("note", "").strip() or None}
    # Same shape as POST /v1/orders/{id}/follow-up-call sends to the workflow.
    return FollowUpCallData(**data).model_dump(mode="json")


@router.post("/orders/{order_id}/follow-up-call", response_class=HTMLResponse)
async def follow_up_call(order_id: str, page: PageDep, db: DbDep,
                         temporal: TemporalDep) -> Response:
    page.allow("order.follow_up_call")
    form = await page.form()
    try:
        data = _call_data(form)
    except (ValidationError, ValueError):
        return await refused_form(db, page, order_id, "order.error_call", "call", form)
    return await post_event(page, db, temporal, order_id, {
        "event_id": form_event_id(form, "call-"), "type": "follow_up_call", "data": data},
        "call", "call", form)
