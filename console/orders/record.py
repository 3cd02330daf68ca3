"""The console's generic "record event" action: one route for every order event type that
declares a console form (workflows/order/event_data.py EVENTS `form`), so a new event type
needs no route or template of its own.

The form's inputs come from the event's data class (console/orders/view.py `form_inputs`); what
is posted is checked by the API's own body for the event (api/orders/events.py EVENT_BODIES)
and submitted like the other console actions (console/orders/actions.py): the viewer's key
name as actor, "console" as source, the form's event id so a resubmitted form records once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import TemporalDep
from api.edge.units import DbDep
from api.orders.events import EVENT_BODIES
from console.deps import PageDep, Refused
from console.orders.actions import form_event_id, post_event, refused_form
from console.orders.view import FormInput, form_inputs
from workflows.order.event_data import EVENTS
from workflows.order.types import EventType

router = APIRouter()
_YES_NO = {"yes": True, "no": False}


def _value(field: FormInput, text: str, zone: str) -> Any:
    """A form input's text as the event's data carries it; ValueError if it cannot be."""
    if field.kind == "time":  # the viewer's wall-clock time, sent in UTC
        return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).isoformat()
    if field.kind == "yes_no":
        return _YES_NO[text]
    if field.kind == "number":
        return int(text)
    return text


def event_data(event_type: EventType, form: dict[str, str], zone: str) -> dict[str, Any]:
    """The event's `data` from the posted form; an input left empty is left out."""
    data = {}
    for field in form_inputs(event_type):
        text = form.get(field.name, "").strip()
        if text:
            try:
                data[field.name] = _value(field, text, zone)
            except (ValueError, KeyError):
                data[field.name] = text  # the body's check below names it
    return data


@router.post("/orders/{order_id}/events/{event_type}", response_class=HTMLResponse)
async def record_event(order_id: str, event_type: str, page: PageDep, db: DbDep,
                       temporal: TemporalDep) -> Response:
    user = page.signed_in()
    known = event_type in EventType.__members__.values()
    if not known or not EVENTS[EventType(event_type)].form:
        return page.message(404, "bad_request")
    type_ = EventType(event_type)
    if not user.may(f"order.event.{type_.value}"):
        raise Refused(page.message(403, "forbidden"))
    form = await page.form(max_fields=len(EVENTS[type_].form) + 2)
    body = {"event_id": form_event_id(form, f"{type_.value}-"), "type": type_.value,
            "occurred_at": datetime.now(UTC).isoformat(),  # post_event stamps it again
            "data": event_data(type_, form, page.viewer.zone)}
    try:
        data = EVENT_BODIES[type_].model_validate(body).model_dump(mode="json")["data"]
    except ValidationError:
        return await refused_form(db, page, order_id, "order.error_event",
                                  f"record-{type_.value}", form)
    return await post_event(page, db, temporal, order_id, {**body, "data": data}, "event",
                            f"record-{type_.value}", form)
