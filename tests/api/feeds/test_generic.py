"""The generic feed's body and AfterShip's vocabulary (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from api.feeds.generic import GenericEvent
from workflows.order.types import EventType


def body(**kw: Any) -> dict[str, Any]:
    return {"carrier": "SF Express", "tracking_number": "SF1", "event_id": "e1",
            "tag": "InTransit", "occurred_at": "2026-12-02T18:40:00+08:00",
            "location": "Hangzhou hub", **kw}


@pytest.mark.parametrize(("tag", "word"), [
    ("InfoReceived", "info_received"), ("InTransit", "in_transit"),
    ("OutForDelivery", "out_for_delivery"), ("AvailableForPickup", "available_for_pickup"),
    ("Pending", "pending")])
def test_moving_tags_are_scans(tag: str, word: str) -> None:
    event = GenericEvent.model_validate(body(tag=tag)).normalised()
    assert event.type == EventType.TRACKING_SCAN
    data = event.body()["data"]
    assert (data["location"], data["status"]) == ("Hangzhou hub", word)
    assert event.body()["occurred_at"] == "2026-12-02T10:40:00Z"


@pytest.mark.parametrize(("tag", "subtag", "reason"), [
    ("AttemptFail", None, "consignee_absent"), ("AttemptFail", "AttemptFail_002",
                                                "consignee_absent"),
    ("Exception", None, "other"), ("Exception", "Exception_003", "refused"),
    ("Exception", "Exception_002", "address_incorrect"),
    ("Exception", "Exception_012", "damaged_in_transit"), ("Exception", "Exception_013", "lost"),
    ("Expired", None, "other")])
def test_trouble_tags_are_exceptions_with_their_reason(tag: str, subtag: str | None,
                                                       reason: str) -> None:
    event = GenericEvent.model_validate(body(tag=tag, subtag=subtag,
                                             message="not at home")).normalised()
    assert event.type == EventType.DELIVERY_EXCEPTION
    assert event.body()["data"]["reason"] == reason
    assert event.body()["data"]["text"] == ("not at home")


def test_delivered_says_how_it_was_signed_never_by_whom() -> None:
    event = GenericEvent.model_validate(body(tag="Delivered", subtag="Delivered_002",
                                             message="signed by Li Lei")).normalised()
    data = event.body()["data"]
    assert data["signer"] == "picked up by the customer" and "Li Lei" not in str(data)


def test_event_id_comes_from_carrier_number_and_the_carriers_id() -> None:
    one = GenericEvent.model_validate(body()).normalised().event_id
    assert one == GenericEvent.model_validate(body(carrier=" sf express",
                                                   location="x")).normalised().event_id
    assert one != GenericEvent.model_validate(body(event_id="e2")).normalised().event_id
    assert one.startswith("generic-")


@pytest.mark.parametrize("bad", [
    {"tag": "Lost"}, {"occurred_at": "2026-12-02T18:40:00"}, {"subtag": "Delivered_001"},
    {"subtag": "x" * 41}, {"tracking_number": ""}, {"carrier": "c" * 121},
    {"message": "m" * 2001}, {"extra": 1}, {"occurred_at": "1999-12-31T00:00:00Z"}])
def test_bad_bodies_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        GenericEvent.model_validate(body(**bad))
