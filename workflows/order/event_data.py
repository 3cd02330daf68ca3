"""An order event's `data`, typed: one frozen dataclass per EventType, parsed once where the
event enters the workflow (its validator, and the handler that applies it).

The wire format stays `EventInput.data: dict` (committed histories hold it), and the API's
bodies (api/orders/events.py) already validate it; parsing here is as lenient as the workflow
always was (a field it did not need may be missing), so every recorded event still parses.

Each event type is also declared once in EVENTS, at the end (workflows/order/event_spec.py
says what a declaration holds): where it is
allowed, who sends it, whether it tells the customer, its words in both languages and its
console form. The rules, permissions, notices, labels, HTTP body and console action are derived
from it. A new event type adds its class, a case below and its EventSpec; mypy's assert_never
finds the rest (README: "Adding an order event").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from workflows.order.event_spec import EventSpec, FormField, SentBy
from workflows.order.records import Pod, QtyLine, ReceiptDocument
from workflows.order.types import (
    AFTER_DELIVERY,
    BEFORE_SHIPMENT,
    MOVING,
    TERMINAL_STAGES,
    EventType,
    Stage,
)


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
    # The customer's new time for a wait they caused: pauses the delivery deadline (pauses.py).
    rescheduled_for: datetime | None = None


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
                promised_delivery_by=_instant_or_none(d.get("promised_delivery_by")),
                rescheduled_for=_instant_or_none(d.get("rescheduled_for")))
        case EventType.FOLLOW_UP_CALL:
            scores = d.get("scores")
            return FollowUpCallData(outcome=d["outcome"], goods_ok=d.get("goods_ok"),
                                    scores=_scores(scores) if scores is not None else None,
                                    suggestions=d.get("suggestions"), note=d.get("note"),
                                    comment=d.get("comment"))
        case _:
            assert_never(type_)


# -- the declarations (event_spec.py) -------------------------------------------------------

INTEGRATION, STAFF = SentBy.INTEGRATION, SentBy.STAFF
_REASON = FormField({"en": "Reason", "zh-CN": "原因"})
_NEW_DELIVERY = FormField({"en": "New delivery promise", "zh-CN": "新承诺送达时间"})

EVENTS: dict[EventType, EventSpec] = {
    EventType.CONFIRMED: EventSpec(
        ConfirmedData, frozenset({Stage.RECEIVED}), INTEGRATION,
        {"en": "Confirmed", "zh-CN": "已确认"}, notice=True),
    EventType.PICKED: EventSpec(
        PickedData, frozenset({Stage.CONFIRMED}), INTEGRATION,
        {"en": "Picked", "zh-CN": "已拣货"}),
    # The warehouse or a carrier may phone these in: the console's form records them, so a
    # ship-late or scan-gap escalation is worked to its end there (issue 18 §2).
    EventType.SHIPPED: EventSpec(
        ShippedData, frozenset({Stage.PICKED}), INTEGRATION,
        {"en": "Shipped", "zh-CN": "已发货"}, notice=True,
        form={"carrier": FormField({"en": "Carrier", "zh-CN": "承运商"}),
              "tracking_no": FormField({"en": "Tracking number", "zh-CN": "运单号"})}),
    # After delivery a late scan is recorded only.
    EventType.TRACKING_SCAN: EventSpec(
        ScanData, MOVING | AFTER_DELIVERY, INTEGRATION,
        {"en": "Tracking scan", "zh-CN": "物流扫描"},
        form={"location": FormField({"en": "Where the goods are", "zh-CN": "货物所在地"}),
              "status": FormField({"en": "Status, as the carrier said", "zh-CN": "承运商所述状态"}),
              "eta": FormField({"en": "Expected delivery", "zh-CN": "预计送达时间"})}),
    EventType.DELIVERED: EventSpec(
        DeliveredData, MOVING, INTEGRATION,
        {"en": "Delivered", "zh-CN": "已送达"}, notice=True),
    EventType.RECEIPT_RETURNED: EventSpec(
        ReceiptData, AFTER_DELIVERY, INTEGRATION,
        {"en": "Receipt returned", "zh-CN": "回单返回"}),
    EventType.SURVEY_RESPONSE: EventSpec(
        SurveyData, AFTER_DELIVERY, INTEGRATION,
        {"en": "Survey answered", "zh-CN": "问卷已答复"}),
    EventType.CANCELLED: EventSpec(
        CancelledData, BEFORE_SHIPMENT, STAFF,
        {"en": "Cancelled", "zh-CN": "已取消"}, notice=True),
    EventType.NOTE: EventSpec(
        NoteData, frozenset(Stage) - TERMINAL_STAGES, STAFF, {"en": "Note", "zh-CN": "备注"}),
    EventType.PROMISE_CHANGED: EventSpec(
        PromiseChangedData, BEFORE_SHIPMENT | MOVING, STAFF,
        {"en": "Promise changed", "zh-CN": "承诺变更"},
        form={"promised_ship_by": FormField({"en": "New ship-by promise",
                                             "zh-CN": "新承诺发货时间"}),
              "promised_delivery_by": _NEW_DELIVERY, "reason": _REASON}),
    EventType.STOCK_SHORTAGE: EventSpec(
        ShortageData, frozenset({Stage.RECEIVED, Stage.CONFIRMED}), INTEGRATION,
        {"en": "Stock shortage", "zh-CN": "缺货"}),
    EventType.SHORTAGE_DECISION: EventSpec(
        ShortageDecisionData, BEFORE_SHIPMENT, STAFF,
        {"en": "Shortage decision", "zh-CN": "缺货处理决定"}),
    # A carrier phones one in, or an integration posts it.
    EventType.DELIVERY_EXCEPTION: EventSpec(
        DeliveryExceptionData, MOVING, INTEGRATION,
        {"en": "Delivery exception", "zh-CN": "配送异常"}, notice=True,
        form={"reason": FormField({"en": "Reason", "zh-CN": "原因"},
                                  options="order.exception_reason"),
              "text": FormField({"en": "What happened", "zh-CN": "情况说明"}),
              "promised_delivery_by": _NEW_DELIVERY,
              # issue 19 §5: the customer's wait pauses the delivery deadline until then
              "rescheduled_for": FormField({"en": "Rescheduled for (customer's wait)",
                                            "zh-CN": "改约时间（客户原因暂停）"})}),
    EventType.FOLLOW_UP_CALL: EventSpec(
        FollowUpCallData, AFTER_DELIVERY, STAFF, {"en": "Follow-up call", "zh-CN": "回访电话"}),
}
