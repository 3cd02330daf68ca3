"""Waybill's generic carrier feed: one carrier event per request, in AfterShip's status
vocabulary, for carriers and aggregators that can send JSON (README "Carrier feeds").

    POST /v1/carrier-feeds/events   (an API key allowed `carrier_feed.post`: integrations)
    {"carrier": "SF Express", "tracking_number": "SF1234567890", "event_id": "sf-88123",
     "tag": "AttemptFail", "subtag": "AttemptFail_001",
     "occurred_at": "2026-12-02T18:40:00+08:00", "location": "Shanghai Pudong",
     "message": "Recipient not at home, will retry tomorrow"}

The tags (AfterShip's nine): InfoReceived, InTransit, OutForDelivery, AvailableForPickup and
Pending are scans; Delivered a delivery; AttemptFail, Exception and Expired delivery exceptions,
whose reason comes from the subtag where AfterShip's subtags name one. The order event's id is
derived from carrier, tracking number and the carrier's `event_id`: the same event sent twice
is one event.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, field_validator, model_validator

from api.feeds.events import LOCATION_MAX, TEXT_MAX, CarrierEvent, carrier_event_id, clean
from api.schemas import Strict, instant
from workflows.order.types import EventType

FEED = "generic"


class Tag(StrEnum):
    """AfterShip's delivery statuses."""

    INFO_RECEIVED = "InfoReceived"
    IN_TRANSIT = "InTransit"
    OUT_FOR_DELIVERY = "OutForDelivery"
    ATTEMPT_FAIL = "AttemptFail"
    DELIVERED = "Delivered"
    AVAILABLE_FOR_PICKUP = "AvailableForPickup"
    EXCEPTION = "Exception"
    EXPIRED = "Expired"
    PENDING = "Pending"


SCAN_WORDS: dict[Tag, str] = {
    Tag.INFO_RECEIVED: "info_received", Tag.IN_TRANSIT: "in_transit",
    Tag.OUT_FOR_DELIVERY: "out_for_delivery", Tag.AVAILABLE_FOR_PICKUP: "available_for_pickup",
    Tag.PENDING: "pending",
}
# Subtags that name an exception's reason (AfterShip's delivery sub-statuses); the rest of an
# Exception is `other`, every AttemptFail `consignee_absent` (a failed attempt: nobody took it).
SUBTAG_REASONS: dict[str, str] = {
    "Exception_002": "address_incorrect",  # customer moved
    "Exception_003": "refused",  # customer refused delivery
    "Exception_007": "address_incorrect",  # address issue
    "Exception_012": "damaged_in_transit",  # shipment damaged
    "Exception_013": "lost",  # shipment lost
}
TAG_REASONS: dict[Tag, str] = {Tag.ATTEMPT_FAIL: "consignee_absent", Tag.EXCEPTION: "other",
                               Tag.EXPIRED: "other"}
# Delivered subtags that say how it was signed for (never by whom).
SUBTAG_SIGNERS: dict[str, str] = {"Delivered_002": "picked up by the customer",
                                  "Delivered_003": "recipient", "Delivered_005": "neighbour"}
EXPIRED_TEXT = "the carrier stopped tracking: no update for 30 days (Expired)"


class GenericEvent(Strict):
    """One carrier event; `message` is the carrier's own words (kept only on exceptions)."""

    carrier: Annotated[str, Field(min_length=1, max_length=120)]
    tracking_number: Annotated[str, Field(min_length=1, max_length=120)]
    event_id: Annotated[str, Field(min_length=1, max_length=128,
                                   description="the carrier's id of this event")]
    tag: Tag
    subtag: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z]+_\d{3}$")
    occurred_at: AwareDatetime
    location: str | None = Field(default=None, max_length=LOCATION_MAX)
    message: str | None = Field(default=None, max_length=TEXT_MAX)
    _time = field_validator("occurred_at")(instant)

    @model_validator(mode="after")
    def _subtag_of_tag(self) -> GenericEvent:
        if self.subtag is not None and not self.subtag.startswith(f"{self.tag.value}_"):
            raise ValueError(f"subtag {self.subtag} is not one of {self.tag.value}'s")
        return self

    def normalised(self) -> CarrierEvent:
        tag, subtag = self.tag, self.subtag or ""
        event_id = carrier_event_id(FEED, self.carrier.strip().casefold(),
                                    self.tracking_number.strip(), self.event_id)
        base = CarrierEvent(
            feed=FEED, carrier=self.carrier.strip(), tracking_no=self.tracking_number.strip(),
            event_id=event_id, carrier_status=subtag or tag.value,
            type=EventType.TRACKING_SCAN, occurred_at=self.occurred_at,
            location=clean(self.location, LOCATION_MAX))
        if tag in SCAN_WORDS:
            return replace(base, status=SCAN_WORDS[tag])
        if tag == Tag.DELIVERED:
            return replace(base, type=EventType.DELIVERED, signer=SUBTAG_SIGNERS.get(subtag))
        text = clean(self.message, TEXT_MAX) or (EXPIRED_TEXT if tag == Tag.EXPIRED else None)
        return replace(base, type=EventType.DELIVERY_EXCEPTION, text=text,
                       reason=SUBTAG_REASONS.get(subtag, TAG_REASONS[tag]))
