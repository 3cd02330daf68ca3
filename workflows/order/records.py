"""What an order's state keeps of its events: shipment, delivery, receipt versions, the
customer's decisions, delivery exceptions, follow-up calls.

Workflow history and the read model's JSON (db/orders/queries.py dumps these as they are):
each serializes to the dict the order held before it was typed, with the same keys in the same
order, so fields may be added (with defaults) but never renamed, removed or reordered. Times
the workflow itself wrote as text stay text (`at`, `returned_at`: isoformat, "+00:00"); times
a caller sent are datetimes, which serialize back to the caller's own text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class QtyLine:
    """A quantity per SKU, as events name them (picked, shipped, delivered, short, agreed)."""

    sku: str
    qty: int


@dataclass(frozen=True)
class Pod:
    """Proof of delivery: a signature, photo or scan, by reference."""

    kind: str
    ref: str


@dataclass(frozen=True)
class ReceiptDocument:
    """The archived receipt (回单) an event names; the API always sends every field."""

    ref: str
    sha256: str
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None


@dataclass(frozen=True)
class Shipment:
    carrier: str | None = None
    tracking_no: str | None = None
    vehicle: str | None = None
    driver: str | None = None


@dataclass(frozen=True)
class Delivery:
    signer: str | None = None
    condition: str | None = None
    pod: Pod | None = None


@dataclass(frozen=True, kw_only=True)
class ReceiptVersion:
    """One version of the receipt: its document's fields flat, and who returned it when.
    (Keyword-only, so the optional document fields keep their place in the JSON.)"""

    version: int
    ref: str
    sha256: str
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None
    returned_at: str
    actor: str
    previous_sha256: str | None


@dataclass(frozen=True)
class Receipt:
    """The current document, when the first one came back, and every version in order."""

    document: ReceiptDocument
    returned_at: str
    versions: tuple[ReceiptVersion, ...]


@dataclass(frozen=True)
class DecisionRecord:
    """The customer's choice on a shortage or short pick (`kind`), and who recorded it."""

    kind: str
    decision: str
    decided_by: str
    recorded_by: str
    at: str
    lines: tuple[QtyLine, ...] | None = None
    promised_delivery_by: datetime | None = None


@dataclass(frozen=True)
class ExceptionRecord:
    """A delivery exception as reported: why, the carrier's text, a new promise if any."""

    event_id: str
    reason: str
    text: str
    at: str
    actor: str
    promised_delivery_by: datetime | None = None


@dataclass(frozen=True)
class FollowUpCall:
    at: str
    outcome: str
    actor: str
    note: str | None = None


@dataclass(frozen=True)
class PauseRecord:
    """A deadline paused for a customer-caused wait (workflows/order/pauses.py): from `since`
    until `until`, the time the customer rescheduled to; `resumed_at` once it ran again (at
    `until`, or sooner when the goods were delivered meanwhile)."""

    event_id: str
    cause: str  # the delivery exception's reason: consignee_absent | customer_request
    since: datetime
    until: datetime
    resumed_at: datetime | None = None
    deadline: str = "delivery_late"  # the deadline it pauses (late_risk follows it)
