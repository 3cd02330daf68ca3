"""Each order event type is declared once (workflows/order/event_data.py EVENTS), and every
table that used to be written per event type is read from that declaration: the validator's
stages, the permission table, the customer notices and their webhook types and templates, the
console's words and forms, the HTTP body. Pure and fast: no database, no Temporal."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

import pytest
from pydantic import ValidationError

from activities.order import notices
from api import permissions
from api.i18n import LOCALES
from api.orders.event_bodies import derived_data, derived_event
from api.orders.events import EVENT_BODIES, WRITTEN, _Event
from console.i18n import catalogue
from console.orders.view import form_inputs
from db.notifications.outbox import NotificationEvent
from db.notifications.templates import load
from workflows.order import event_data
from workflows.order.event_data import EVENTS, EventData
from workflows.order.event_spec import SentBy, notice_type
from workflows.order.rules import ALLOWED_IN
from workflows.order.types import EventType, Stage


def test_every_event_type_is_declared_once_with_its_own_data_class() -> None:
    assert list(EVENTS) == list(EventType)
    classes = [spec.data for spec in EVENTS.values()]
    assert sorted(c.__name__ for c in classes) == sorted(c.__name__ for c in get_args(EventData))
    assert len(set(classes)) == len(classes)


@pytest.mark.parametrize("event_type", list(EventType))
def test_the_declaration_drives_stages_and_permissions(event_type: EventType) -> None:
    spec = EVENTS[event_type]
    assert spec.allowed_in and spec.allowed_in <= frozenset(Stage)
    assert ALLOWED_IN[event_type] == spec.allowed_in
    roles = permissions.roles_for(f"order.event.{event_type.value}")
    expected = permissions.WRITERS if spec.sent_by == SentBy.INTEGRATION else permissions.STAFF
    assert roles == expected


@pytest.mark.parametrize("event_type", list(EventType))
def test_a_declared_notice_has_its_webhook_type_and_words_in_both_languages(
        event_type: EventType) -> None:
    spec = EVENTS[event_type]
    told = notices._CUSTOMER_EVENTS.get(event_type.value)
    assert told == (notice_type(event_type) if spec.notice else None)
    if spec.notice:
        assert notice_type(event_type) in {e.value for e in NotificationEvent}
        for locale in LOCALES:
            subject, body = load(locale, notice_type(event_type))
            assert subject and body.strip()
    fields = {f.name for f in dataclasses.fields(spec.data)}
    assert set(spec.quote) <= fields, "a notice quotes only fields of the event's data"


def test_the_webhook_types_stored_before_the_declarations_keep_their_values() -> None:
    stored = {"ORDER_CONFIRMED": "order.confirmed", "ORDER_SHIPPED": "order.shipped",
              "ORDER_DELIVERED": "order.delivered", "ORDER_CANCELLED": "order.cancelled",
              "ORDER_DELIVERY_EXCEPTION": "order.delivery_exception"}
    assert {name: NotificationEvent[name].value for name in stored} == stored
    assert NotificationEvent("order.delay_risk") == "order.delay_risk"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("event_type", list(EventType))
def test_labels_and_console_forms_have_words_in_both_languages(
        event_type: EventType, locale: str) -> None:
    spec = EVENTS[event_type]
    words = catalogue(locale)
    assert words[f"event.{event_type.value}"] == spec.label[locale] != ""
    fields = {f.name for f in dataclasses.fields(spec.data)}
    assert set(spec.form) <= fields, "a console form names fields of the event's data"
    for field in form_inputs(event_type):
        assert words[f"event.{event_type.value}.{field.name}"]
        if field.options:
            assert all(f"{field.options}.{choice}" in words for choice in field.choices)


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_has_a_body_naming_only_fields_its_data_class_reads(
        event_type: EventType) -> None:
    body = EVENT_BODIES[event_type]
    data_model = body.model_fields["data"].annotation
    assert data_model is not None
    fields = {f.name for f in dataclasses.fields(EVENTS[event_type].data)}
    assert set(data_model.model_fields) <= fields  # type: ignore[union-attr]


@dataclass(frozen=True)
class _HoldData:
    reason: str
    kind: Literal["inspection", "paperwork"]
    expected_release_at: datetime | None = None
    note: str | None = None


def test_a_body_derived_from_a_data_class_checks_and_normalizes_like_a_written_one() -> None:
    event = derived_event(EventType.NOTE, _HoldData, _Event)  # any type: only its name is used
    ok = event.model_validate({
        "event_id": "h-1", "type": "note", "occurred_at": "2026-12-01T08:00:00+08:00",
        "data": {"reason": "x-ray", "kind": "inspection",
                 "expected_release_at": "2026-12-03T09:00:00+08:00"}})
    data = ok.model_dump(mode="json")["data"]
    assert data == {"reason": "x-ray", "kind": "inspection",
                    "expected_release_at": "2026-12-03T01:00:00Z", "note": None}
    event_data.parse(EventType.NOTE, data)  # a dict the workflow parses as it always did
    for bad in ({"kind": "inspection"}, {"reason": "", "kind": "inspection"},
                {"reason": "r", "kind": "bribe"}, {"reason": "r", "kind": "inspection", "x": 1},
                {"reason": "r", "kind": "inspection", "expected_release_at": "2026-12-03"},
                {"reason": "r", "kind": "inspection",
                 "expected_release_at": "1999-12-03T00:00:00Z"},
                {"reason": "r" * 2001, "kind": "inspection"}):
        with pytest.raises(ValidationError):
            event.model_validate({"event_id": "h-1", "type": "note",
                                  "occurred_at": "2026-12-01T08:00:00Z", "data": bad})
    schema = derived_data(EventType.NOTE, _HoldData).model_json_schema()
    assert schema["required"] == ["reason", "kind"]
    assert schema["properties"]["reason"]["maxLength"] == 2000


def test_a_data_class_the_derivation_cannot_read_needs_a_written_body() -> None:
    with pytest.raises(TypeError, match="write the event's body by hand"):
        derived_data(EventType.PICKED, event_data.PickedData)


def test_the_written_bodies_are_the_older_event_types() -> None:
    assert set(WRITTEN) <= set(EventType)
    assert all(EVENT_BODIES[t] is WRITTEN[t] for t in WRITTEN)


def test_a_console_form_takes_its_inputs_from_the_events_body() -> None:
    inputs = {i.name: i for i in form_inputs(EventType.DELIVERY_EXCEPTION)}
    assert [(i.name, i.kind, i.required) for i in inputs.values()] == [
        ("reason", "choice", True), ("text", "text", True),
        ("promised_delivery_by", "time", False), ("rescheduled_for", "time", False)]
    assert "lost" in inputs["reason"].choices
