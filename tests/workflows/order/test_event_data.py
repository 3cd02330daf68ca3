"""Event data is parsed once, typed, at the workflow boundary: every event type of every case
parses, every event in the committed histories still parses, and state written before the
typing still decodes (pure: no stack)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from tests.support.builders import STANDARD
from tests.support.codec import TEST_CODEC
from workflows.claim import event_data as claim_data
from workflows.claim.types import Basis, ClaimEventType, ClaimStatus
from workflows.complaint import event_data as complaint_data
from workflows.complaint.types import ComplaintEventType
from workflows.complaint.workflow import ALLOWED_IN as COMPLAINT_ALLOWED_IN
from workflows.order import event_data as order_data
from workflows.order.records import QtyLine, ReceiptVersion
from workflows.order.rules import ALLOWED_IN
from workflows.order.types import EventType, OrderState

HISTORIES = sorted((Path(__file__).parents[2] / "histories").glob("*.json"))
LINES = [{"sku": "SKU-1", "qty": 3}]
WHEN = "2026-12-01T08:00:00Z"
DOC = {"ref": "archive:sha256:" + "a" * 64, "sha256": "a" * 64}

ORDER_EXAMPLES: dict[EventType, dict[str, Any]] = {
    EventType.CONFIRMED: {},
    EventType.PICKED: {"lines": LINES},
    EventType.SHIPPED: {"carrier": "SF", "tracking_no": "SF1"},
    EventType.TRACKING_SCAN: {"location": "Hub", "status": "departed", "eta": WHEN},
    EventType.DELIVERED: {"signer": "Li", "condition": "intact",
                          "pod": {"kind": "signature", "ref": "p"}},
    EventType.RECEIPT_RETURNED: {"document": DOC},
    EventType.SURVEY_RESPONSE: {"scores": {"timeliness": 4}},
    EventType.CANCELLED: {"reason": "changed mind"},
    EventType.NOTE: {"text": "hello"},
    EventType.PROMISE_CHANGED: {"promised_delivery_by": WHEN, "reason": "agreed"},
    EventType.STOCK_SHORTAGE: {"lines": LINES},
    EventType.SHORTAGE_DECISION: {"decision": "partial", "decided_by": "Ms Zhang",
                                  "lines": LINES},
    EventType.DELIVERY_EXCEPTION: {"reason": "weather", "text": "storm"},
    EventType.FOLLOW_UP_CALL: {"outcome": "no_answer"},
}
CLAIM_EXAMPLES: dict[ClaimEventType, dict[str, Any]] = {
    ClaimEventType.CUSTOMER_CONTACTED: {"channel": "phone"},
    ClaimEventType.DOCUMENT_ADDED: {"kind": "photo", "sha256": "c" * 64},
    ClaimEventType.LIABILITY_DECIDED: {"liability": "carrier"},
    ClaimEventType.COMPENSATION_SET: {"amount_minor": 100, "currency": "CNY", "weight_kg": 30},
    ClaimEventType.PAYOUT_ISSUED: {"voucher": "PV-1"},
    ClaimEventType.WITHDRAWN: {"reason": "in error"},
    ClaimEventType.NOTE: {"text": "n"},
    ClaimEventType.BASIS_SET: {"declared_value_minor": 7, "reason": "invoice"},
}
COMPLAINT_EXAMPLES: dict[ComplaintEventType, dict[str, Any]] = {
    ComplaintEventType.ROUTED: {"department": "warehouse"},
    ComplaintEventType.FIRST_REPLY: {"text": "sorry", "plan": "resend", "promised_by": WHEN},
    ComplaintEventType.RESOLVED: {"text": "resent"},
    ComplaintEventType.SATISFACTION: {"score": 4},
    ComplaintEventType.NOTE: {"text": "n"},
}


def test_every_event_type_parses_and_has_its_stages() -> None:
    assert set(ORDER_EXAMPLES) == set(EventType)
    assert set(ALLOWED_IN) == set(EventType)
    assert set(COMPLAINT_ALLOWED_IN) == set(ComplaintEventType)
    assert set(CLAIM_EXAMPLES) == set(ClaimEventType)
    assert set(COMPLAINT_EXAMPLES) == set(ComplaintEventType)
    parsed = {t: order_data.parse(t, d) for t, d in ORDER_EXAMPLES.items()}
    assert len({type(p) for p in parsed.values()}) == len(EventType)  # one class per type
    picked = parsed[EventType.PICKED]
    assert isinstance(picked, order_data.PickedData) and picked.lines == (QtyLine("SKU-1", 3),)
    scan = parsed[EventType.TRACKING_SCAN]
    assert isinstance(scan, order_data.ScanData) and scan.eta is not None
    assert scan.eta.isoformat() == "2026-12-01T08:00:00+00:00"
    for ct, cd in CLAIM_EXAMPLES.items():
        claim_data.parse(ct, cd)
    for kt, kd in COMPLAINT_EXAMPLES.items():
        complaint_data.parse(kt, kd)
    comp = claim_data.parse(ClaimEventType.COMPENSATION_SET, CLAIM_EXAMPLES[
        ClaimEventType.COMPENSATION_SET])
    assert isinstance(comp, claim_data.CompensationData)
    assert comp.basis == Basis(weight_kg=30) and comp.basis.named() == {"weight_kg": 30}


@pytest.mark.parametrize(("type_", "data"), [
    (EventType.PICKED, {}),  # no lines
    (EventType.DELIVERED, {"signer": "Li"}),  # no condition
    (EventType.PICKED, {"lines": [{"sku": "S", "qty": "many"}]}),
])
def test_a_malformed_event_fails_to_parse(type_: EventType, data: dict[str, Any]) -> None:
    with pytest.raises((KeyError, ValueError, TypeError)):
        order_data.parse(type_, data)


def _clear(payload: dict[str, Any]) -> bytes:
    """A payload's JSON: histories recorded since payloads are encrypted hold it sealed with
    the tests' key (tests/record_histories.py), older ones in clear."""
    sealed = Payload(metadata={k: base64.b64decode(v) for k, v in payload["metadata"].items()},
                     data=base64.b64decode(payload["data"]))
    if sealed.metadata.get("encoding") != b"binary/encrypted":
        return sealed.data
    return asyncio.run(TEST_CODEC.decode([sealed]))[0].data


def _posted_events() -> list[tuple[str, dict[str, Any]]]:
    """(workflow type, event body) of every event update in the committed histories."""
    out = []
    for path in HISTORIES:
        events = json.loads(path.read_text())["events"]
        workflow_type = events[0]["workflowExecutionStartedEventAttributes"]["workflowType"]
        for event in events:
            for attrs in event.values():
                if not isinstance(attrs, dict) or "acceptedRequest" not in attrs:
                    continue
                for payload in attrs["acceptedRequest"]["input"]["args"]["payloads"]:
                    body = json.loads(_clear(payload))
                    if "type" in body and "data" in body:
                        out.append((workflow_type["name"], body))
    return out


def test_every_event_in_the_committed_histories_parses() -> None:
    events = _posted_events()
    assert {name for name, _ in events} == {
        "OrderWorkflow", "ClaimWorkflow", "ComplaintWorkflow"}
    for workflow_type, body in events:
        match workflow_type:
            case "OrderWorkflow":
                order_data.parse(EventType(body["type"]), body["data"])
            case "ClaimWorkflow":
                claim_data.parse(ClaimEventType(body["type"]), body["data"])
            case _:
                complaint_data.parse(ComplaintEventType(body["type"]), body["data"])


def _decode(value: Any, type_: type) -> Any:
    converter = DataConverter.default.payload_converter
    payload = Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())
    return converter.from_payload(payload, type_)


def test_state_written_before_the_typing_still_decodes() -> None:
    """An order or claim snapshot in flight (an activity input) from before the typing."""
    state = {
        "order_id": "SO-1", "customer": {"id": "C", "name": "N", "tier": "standard"},
        "lines": [{"sku": "SKU-1", "ordered": 3}], "destination": {},
        "promised_ship_by": WHEN, "promised_delivery_by": WHEN,
        "policy": json.loads(DataConverter.default.payload_converter.to_payload(STANDARD).data),
        "stage": "receipt_archived",
        "stage_times": {"received": WHEN},
        "shipment": {"carrier": "SF", "tracking_no": "1", "vehicle": None, "driver": None},
        "delivery": {"signer": "Li", "condition": "intact", "pod": {"kind": "scan", "ref": "r"}},
        "receipt": {"document": DOC, "returned_at": WHEN, "versions": [
            {"version": 1, **DOC, "returned_at": WHEN, "actor": "a", "previous_sha256": None}]},
        "decisions": [{"kind": "stock_shortage", "decision": "partial", "decided_by": "Z",
                       "recorded_by": "op", "at": WHEN, "lines": LINES,
                       "promised_delivery_by": None}],
        "exceptions": [{"event_id": "e", "reason": "weather", "text": "t", "at": WHEN,
                        "actor": "a", "promised_delivery_by": WHEN}],
    }
    s = _decode(state, OrderState)
    assert s.receipt.versions == (ReceiptVersion(
        version=1, ref=DOC["ref"], sha256=DOC["sha256"], returned_at=WHEN, actor="a",
        previous_sha256=None),)
    assert s.decisions[0].lines == (QtyLine("SKU-1", 3),)
    assert s.delivery.pod.kind == "scan" and s.shipment.carrier == "SF"
    claim = _decode({"claim_id": "X", "order_id": "SO-1",
                     "customer": {"id": "C", "name": "N", "tier": "standard"},
                     "cause": "damaged", "origin": "delivery", "description": "",
                     "opened_at": WHEN, "opened_by": "op",
                     "basis_changes": [{"at": WHEN, "by": "s", "role": "supervisor",
                                        "old": {"weight_kg": None, "declared_value_minor": None},
                                        "new": {"weight_kg": 2, "declared_value_minor": None},
                                        "reason": "r"}]}, ClaimStatus)
    assert claim.basis_changes[0].new == Basis(weight_kg=2)
