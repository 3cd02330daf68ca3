"""What the customer tracking page shows of an order, and nothing more (issue 19 §2).

Shown: the order id, its lines (SKU and quantity, as the customer ordered), the stages in words
with their times, the carrier and tracking number, the latest scans (the carrier's own place
and status, with long digit runs masked: in carriers' texts they are mostly phone numbers), the
promised delivery time and the current ETA, whether and how the delivery was proven, the
survey link while the survey is open, and the latest delivery exception explained in the
customer's words (by its reason; the reporter's free text is not shown).

Not shown: the customer's name, phone and e-mail, the destination's street address, the signer,
the driver and vehicle, notes, actors, breaches, escalations, claims, complaints, the proof's
storage reference. The consignee appears masked: the contact's first character and `*`
(`李*`), the city, and the phone's last four digits. A value redacted by retention
(db/personal: "[redacted]") counts as absent, so a redacted order shows its stages only.

Times are shown in the order's business zone: its policy's calendar zone, else the
configured business zone (config `business_timezone`), the zone its deadlines are counted in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.orders.events import DeliveryExceptionData
from api.orders.read_model import customer_of, destination_of, detail_of, lines_of
from api.survey.form import SurveyState, survey_state
from db.orders.models import Order, OrderScan
from db.personal.fields import REDACTED
from shared.carriers import NO_LOCATION, SCAN_STATUSES
from workflows.order.types import AFTER_DELIVERY, MOVING, Stage

# The stages a customer sees, in order: after delivery the rest (receipt, follow-up, closing)
# is the shipper's business, so those orders read "delivered".
CUSTOMER_STAGES = (Stage.RECEIVED, Stage.CONFIRMED, Stage.PICKED, Stage.SHIPPED,
                   Stage.IN_TRANSIT, Stage.DELIVERED)
_STAGE_COLUMNS = {Stage.RECEIVED: "received_at", Stage.CONFIRMED: "confirmed_at",
                  Stage.PICKED: "picked_at", Stage.SHIPPED: "shipped_at",
                  Stage.IN_TRANSIT: "in_transit_at", Stage.DELIVERED: "delivered_at"}
# Every delivery-exception reason the API accepts has customer words (the catalogue keys
# exception_<reason>_title/_body/_next); one it does not know reads as `other`.
EXCEPTION_REASONS: tuple[str, ...] = get_args(
    DeliveryExceptionData.model_fields["reason"].annotation)
POD_KINDS = ("signature", "photo", "scan")
CONDITIONS = ("intact", "damaged", "short", "refused")
LATEST_SCANS = 10


@dataclass(frozen=True)
class When:
    """An instant as the page writes it: in the business zone, and as UTC for `<time>`."""

    text: str
    iso: str


@dataclass(frozen=True)
class Step:
    stage: str
    at: When | None
    current: bool


@dataclass(frozen=True)
class ScanLine:
    """`status`/`location`: a feed's word (shared/carriers.py, said in the page's words: the
    template looks `scan_status.<word>` up) or the carrier's own text, digit runs masked."""

    at: When
    location: str | None  # None: the feed knew no place
    status: str
    status_known: bool = False


@dataclass(frozen=True)
class ExceptionNote:
    reason: str  # one of EXCEPTION_REASONS
    at: When | None
    new_promise: When | None


@dataclass(frozen=True)
class Consignee:
    contact: str | None  # masked: first character and `*`
    city: str | None
    phone_tail: str | None  # the last four digits


@dataclass(frozen=True)
class TrackingView:
    order_id: str
    zone: str
    steps: list[Step]
    cancelled_at: When | None
    carrier: str | None
    tracking_no: str | None
    promised: When
    eta: When | None  # while the goods are on their way
    eta_late: bool
    delivered_at: When | None
    pod_kind: str | None  # one of POD_KINDS, once delivered with a proof
    condition: str | None  # one of CONDITIONS
    exception: ExceptionNote | None
    survey_open: bool
    consignee: Consignee
    lines: list[tuple[str, int]]
    scans: list[ScanLine] = field(default_factory=list)


def given(value: Any) -> str | None:
    """A personal value as the page may use it: None when absent, blank or redacted."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    return None if not value or value == REDACTED else value


# Carriers' scan texts often name the courier's or the signer's phone ("派送员 138 0013 8000"):
# any run of 7 or more digits (with spaces, dashes, a leading +) shows its last four only.
_DIGIT_RUN = re.compile(r"\+?\d[\d\s-]{5,}\d")


def mask_numbers(text: str) -> str:
    def masked(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return f"****{digits[-4:]}" if len(digits) >= 7 else match.group(0)

    return _DIGIT_RUN.sub(masked, text)


def mask_name(value: Any) -> str | None:
    """`李雷` -> `李*`, `Li Lei` -> `L*`: one character and one star, whatever the length."""
    name = given(value)
    return f"{name[0]}*" if name else None


def phone_digits(value: Any) -> str:
    return re.sub(r"\D", "", given(value) or "")


def contact_phone(order: Order) -> str:
    """The digits of the phone the lookup checks and the page shows the end of: the
    destination's (the consignee's), else the customer's when the destination gives none."""
    return phone_digits(destination_of(order).phone) or phone_digits(customer_of(order).phone)


def business_zone(order: Order, default: str) -> ZoneInfo:
    calendar = (order.sla_policy_snapshot or {}).get("calendar") or {}
    for name in (calendar.get("timezone"), default):
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _when(value: datetime | None, zone: ZoneInfo) -> When | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return When(text=value.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                iso=value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _shown_stage(stage: str) -> Stage | None:
    """The customer stage an order stage reads as; None for cancelled."""
    if stage == Stage.CANCELLED:
        return None
    if stage in AFTER_DELIVERY or stage == Stage.CLOSED:
        return Stage.DELIVERED
    return Stage(stage)


def tracking_view(order: Order, scans: Sequence[OrderScan], now: datetime,
                  default_zone: str) -> TrackingView:
    zone = business_zone(order, default_zone)
    detail = detail_of(order)
    shown = _shown_stage(order.stage)
    steps = [Step(stage=s.value, at=_when(getattr(order, _STAGE_COLUMNS[s]), zone),
                  current=s == shown) for s in CUSTOMER_STAGES]
    moving = order.stage in MOVING
    eta = detail.latest_eta if moving else None
    delivery = detail.delivery
    delivered = order.delivered_at is not None and shown == Stage.DELIVERED
    pod = delivery.pod if delivery and delivered else None
    condition = delivery.condition if delivery and delivered else None
    exception = None
    # The latest exception is news while the goods are still on their way (or lost); once
    # delivered or cancelled it is history the page no longer explains.
    if detail.exceptions and (moving or detail.lost):
        latest = detail.exceptions[-1]
        reason = latest.reason if latest.reason in EXCEPTION_REASONS else "other"
        exception = ExceptionNote(reason=reason, at=_when(latest.at, zone),
                                  new_promise=_when(latest.promised_delivery_by, zone))
    destination = destination_of(order)
    digits = contact_phone(order)
    return TrackingView(
        order_id=order.order_id, zone=zone.key, steps=steps,
        cancelled_at=_when(order.cancelled_at, zone) if shown is None else None,
        carrier=order.carrier, tracking_no=order.tracking_no,
        promised=_when(order.promised_delivery_by, zone) or When("-", ""),
        eta=_when(eta, zone), eta_late=bool(eta and eta > order.promised_delivery_by),
        delivered_at=_when(order.delivered_at, zone) if delivered else None,
        pod_kind=pod.kind if pod and pod.kind in POD_KINDS else None,
        condition=condition if condition in CONDITIONS else None,
        exception=exception,
        survey_open=survey_state(order, now) == SurveyState.OPEN,
        consignee=Consignee(contact=mask_name(destination.contact),
                            city=given(destination.city),
                            phone_tail=digits[-4:] if len(digits) >= 4 else None),
        lines=[(line.sku, line.ordered) for line in lines_of(order)],
        scans=[_scan_line(w, s.location, s.status)
               for s in scans if (w := _when(s.occurred_at, zone)) is not None],
    )


def _scan_line(at: When, location: str, status: str) -> ScanLine:
    known = status in SCAN_STATUSES
    return ScanLine(at=at, location=None if location == NO_LOCATION else mask_numbers(location),
                    status=status if known else mask_numbers(status), status_known=known)
