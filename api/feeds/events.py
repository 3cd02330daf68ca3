"""A carrier's status, normalised: what every feed format is turned into before it reaches an
order, and the order event it becomes.

Each feed (api/feeds/kuaidi100.py, api/feeds/generic.py) maps its own vocabulary to one of
three order events, `tracking_scan`, `delivered` or `delivery_exception` (with one of the
exception reasons the order event declares), and derives the event id from what identifies the
carrier's event, so the same scan pushed twice is the same order event (a duplicate there).
The body is then checked by the API's own event schema (`EVENT_ADAPTER`): a feed cannot post
what the events endpoint would refuse.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from api.orders.events import EventIn
from shared.carriers import NO_LOCATION
from workflows.order.types import EventType

EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(EventIn)

# What a carrier's own words may be cut to (the event bodies' limits).
LOCATION_MAX = 500
TEXT_MAX = 2000
# Written when a carrier gives no location: the scan still counts.
# A carrier's push says the parcel was signed for, not by whom (that name, if any, stays in the
# carrier's own record): what `delivered.signer` says instead, per how it was signed.
CARRIER_SIGNER = "carrier-reported"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(text: str | None, limit: int) -> str | None:
    """A carrier's free text as an event may hold it: control characters (NUL among them,
    which the database refuses) removed, whitespace trimmed, cut to `limit`; None if empty."""
    if not text:
        return None
    value = _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()[:limit].strip()
    return value or None


def carrier_event_id(feed: str, *parts: str) -> str:
    """The order event id of a carrier event identified by `parts` (carrier, tracking number,
    time, state...): the same parts, the same id, whichever push brings them."""
    digest = hashlib.sha256("\n".join((feed, *parts)).encode()).hexdigest()[:32]
    return f"{feed}-{digest}"


@dataclass(frozen=True)
class CarrierEvent:
    """One carrier event, normalised.

    Attributes:
        feed: which format brought it (`kuaidi100`, `generic`).
        carrier: the carrier as the push names it (a Kuaidi100 code, or a name).
        tracking_no: the carrier's tracking number.
        event_id: the order event's id (`carrier_event_id`).
        carrier_status: the carrier's own state, kept for the record (`301`, `Delivered_001`).
        type: the order event it becomes.
        occurred_at: when it happened, timezone-aware.
        location: where (a city or a facility), if the carrier says.
        status: a scan's status word (`in_transit`, `out_for_delivery`...).
        reason: a delivery exception's reason (the order event's reasons).
        text: what the carrier said about an exception (personal data: inventoried under
            `delivery_exception.data.text`); only exceptions carry it.
        signer: how a delivery was signed for (`recipient`, `proxy`...), never a name.
    """

    feed: str
    carrier: str
    tracking_no: str
    event_id: str
    carrier_status: str
    type: EventType
    occurred_at: datetime
    location: str | None = None
    status: str | None = None
    reason: str | None = None
    text: str | None = None
    signer: str | None = None

    def data(self) -> dict[str, Any]:
        """The order event's `data`."""
        if self.type == EventType.DELIVERED:
            ref = f"{self.feed}:{self.carrier}:{self.tracking_no}"[:500]
            return {"signer": self.signer or CARRIER_SIGNER, "condition": "intact",
                    "pod": {"kind": "scan", "ref": ref}}
        if self.type == EventType.DELIVERY_EXCEPTION:
            return {"reason": self.reason or "other",
                    "text": self.text or f"carrier status {self.carrier_status}"}
        return {"location": self.location or NO_LOCATION, "status": self.status or "in_transit"}

    def body(self) -> dict[str, Any]:
        """The order event as the events endpoint takes it, validated by that endpoint's own
        schema (ValueError if the feed built something it would refuse)."""
        body = {"event_id": self.event_id, "type": self.type.value,
                "occurred_at": self.occurred_at.isoformat(), "data": self.data()}
        event = EVENT_ADAPTER.validate_python(body)
        dumped: dict[str, Any] = event.model_dump(mode="json")
        return dumped
