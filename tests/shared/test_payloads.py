"""Waybill's payload converter (shared/payloads.py): a dataclass leaves out the fields that hold
their default, every payload reads back equal, and the SDK's default converter reads it too."""

from __future__ import annotations

import json

from temporalio.converter import default

from shared.payloads import DATA_CONVERTER
from tests.support.order_states import full_state, hours
from workflows.order.types import EventResult, OrderState, Stage, TimelineEntry


def _roundtrip(value: object, type_: type) -> tuple[dict, object, object]:
    [payload] = DATA_CONVERTER.payload_converter.to_payloads([value])
    ours = DATA_CONVERTER.payload_converter.from_payloads([payload], [type_])[0]
    theirs = default().payload_converter.from_payloads([payload], [type_])[0]
    return json.loads(payload.data), ours, theirs


def test_defaults_are_left_out_and_read_back() -> None:
    entry = TimelineEntry(event_id="order-closed", type="closed", occurred_at=hours(1),
                          recorded_at=hours(1))
    body, ours, theirs = _roundtrip(entry, TimelineEntry)
    assert set(body) == {"event_id", "type", "occurred_at", "recorded_at"}
    assert ours == theirs == entry  # actor, source, data and body_hash back at their defaults
    result = EventResult(stage=Stage.CLOSED, request_id="r1")
    body, ours, theirs = _roundtrip(result, EventResult)
    assert body == {"stage": "closed", "request_id": "r1"}
    assert ours == theirs == result


def test_a_whole_order_state_reads_back_equal() -> None:
    state = full_state()
    state.cancel_reason = None  # a None that is also its default
    body, ours, theirs = _roundtrip(state, OrderState)
    assert "cancel_reason" not in body and body["customer"]["name"] == "Acme"
    assert ours == theirs == state
