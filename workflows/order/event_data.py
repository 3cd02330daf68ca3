"""An order event's `data`, typed: one frozen dataclass per EventType, parsed once where the
event enters the workflow (its validator, and the handler that applies it).

The wire format stays `EventInput.data: dict` (committed histories hold it), and the API's
bodies (api/orders/events.py) already validate it; parsing here is as lenient as the workflow
always was (a field it did not need may be missing), so every recorded event still parses.
A new event type adds its class and a case below; mypy's assert_never finds the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from workflows.order.records import Pod, QtyLine, ReceiptDocument
from workflows.order.types import EventType


def instant(value: Any) -> datetime:
    """A time as the wire carries it (ISO 8601 text), or already a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _instant_or_none(value: Any) -> datetime | None:
    return instant(value) if value else None


def _lines(value: Any) -> tuple[QtyLine, ...]:
    return tuple(QtyLine(sku=line["sku"], qty=int(line["qty"])) for line in value or ())


def _lines_or_none(value: Any) -> tuple[QtyLine, ...] | None:
    return None if value is None else _lines(value)


@dataclass(frozen=True)
class ConfirmedData:
    by: str | None = None


@dataclass(frozen=True)
class PickedData:
    lines: tuple[QtyLine, ...]


@dataclass(frozen=True)
class ShippedData:
    carrier: str | None
    tracking_no: str | None
    vehicle: str | None = None
    driver: str | None = None
    lines: tuple[QtyLine, ...] | None = None


@dataclass(frozen=True)
class ScanData:
    location: str
    status: str
    eta: datetime | None = None


@dataclass(frozen=True)
class DeliveredData:
    signer: str | None
    condition: str
    pod: Pod | None
    lines: tuple[QtyLine, ...] | None = None


@dataclass(frozen=True)
class ReceiptData:
    document: ReceiptDocument


@dataclass(frozen=True)
class SurveyData:
    scores: dict[str, int]
    goods_ok: bool | None = None
    suggestions: str | None = None
    comment: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class CancelledData:
    reason: str


@dataclass(frozen=True)
class NoteData:
    text: str | None = None


@dataclass(frozen=True)
class PromiseChangedData:
    promised_ship_by: datetime | None = None
    promised_delivery_by: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ShortageData:
    """Stock short at confirmation: the quantity available per short SKU."""

    lines: tuple[QtyLine, ...]
    note: str | None = None


@dataclass(frozen=True)
class ShortageDecisionData:
    decision: str  # partial | backorder | cancel
    decided_by: str
    lines: tuple[QtyLine, ...] | None = None
    promised_ship_by: datetime | None = None
    promised_delivery_by: datetime | None = None
    note: str | None = None


@dataclass(frozen=True)
class DeliveryExceptionData:
    reason: str
    text: str
    promised_delivery_by: datetime | None = None


@dataclass(frozen=True)
class FollowUpCallData:
    outcome: str  # answered | no_answer | refused
    goods_ok: bool | None = None
    scores: dict[str, int] | None = None
    suggestions: str | None = None
    note: str | None = None
    comment: str | None = None


EventData = (ConfirmedData | PickedData | ShippedData | ScanData | DeliveredData | ReceiptData
             | SurveyData | CancelledData | NoteData | PromiseChangedData | ShortageData
             | ShortageDecisionData | DeliveryExceptionData | FollowUpCallData)


def _scores(value: Any) -> dict[str, int]:
    return {str(k): v for k, v in (value or {}).items()}


def parse(type_: EventType, data: Mapping[str, Any]) -> EventData:  # noqa: C901 - one case each
    """`data` of an event of `type_`, typed. KeyError/ValueError/TypeError if malformed."""
    d = data
    match type_:
        case EventType.CONFIRMED:
            return ConfirmedData(by=d.get("by"))
        case EventType.PICKED:
            return PickedData(lines=_lines(d["lines"]))
        case EventType.SHIPPED:
            return ShippedData(carrier=d.get("carrier"), tracking_no=d.get("tracking_no"),
                               vehicle=d.get("vehicle"), driver=d.get("driver"),
                               lines=_lines_or_none(d.get("lines")))
        case EventType.TRACKING_SCAN:
            return ScanData(location=d["location"], status=d["status"],
                            eta=_instant_or_none(d.get("eta")))
        case EventType.DELIVERED:
            pod = d.get("pod")
            return DeliveredData(signer=d.get("signer"), condition=d["condition"],
                                 pod=Pod(kind=pod["kind"], ref=pod["ref"]) if pod else None,
                                 lines=_lines_or_none(d.get("lines")))
        case EventType.RECEIPT_RETURNED:
            doc = d["document"]
            return ReceiptData(document=ReceiptDocument(
                ref=doc.get("ref"), sha256=doc.get("sha256"),
                content_type=doc.get("content_type"), size=doc.get("size"),
                filename=doc.get("filename")))
        case EventType.SURVEY_RESPONSE:
            return SurveyData(scores=_scores(d["scores"]), goods_ok=d.get("goods_ok"),
                              suggestions=d.get("suggestions"), comment=d.get("comment"),
                              channel=d.get("channel"))
        case EventType.CANCELLED:
            return CancelledData(reason=d["reason"])
        case EventType.NOTE:
            return NoteData(text=d.get("text"))
        case EventType.PROMISE_CHANGED:
            return PromiseChangedData(
                promised_ship_by=_instant_or_none(d.get("promised_ship_by")),
                promised_delivery_by=_instant_or_none(d.get("promised_delivery_by")),
                reason=d.get("reason"))
        case EventType.STOCK_SHORTAGE:
            return ShortageData(lines=_lines(d["lines"]), note=d.get("note"))
        case EventType.SHORTAGE_DECISION:
            return ShortageDecisionData(
                decision=d["decision"], decided_by=d["decided_by"],
                lines=_lines_or_none(d.get("lines")),
                promised_ship_by=_instant_or_none(d.get("promised_ship_by")),
                promised_delivery_by=_instant_or_none(d.get("promised_delivery_by")),
                note=d.get("note"))
        case EventType.DELIVERY_EXCEPTION:
            return DeliveryExceptionData(
                reason=d["reason"], text=d["text"],
                promised_delivery_by=_instant_or_none(d.get("promised_delivery_by")))
        case EventType.FOLLOW_UP_CALL:
            scores = d.get("scores")
            return FollowUpCallData(outcome=d["outcome"], goods_ok=d.get("goods_ok"),
                                    scores=_scores(scores) if scores is not None else None,
                                    suggestions=d.get("suggestions"), note=d.get("note"),
                                    comment=d.get("comment"))
        case _:
            assert_never(type_)
