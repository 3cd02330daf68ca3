"""HTTP bodies of an order's events: one typed body per event type, and the answer to a post.

The older event types' bodies are written here (they say more than their data classes: lines,
nested records, cross-field rules, descriptions); a later event type's body is derived from its
data class (api/orders/event_bodies.py). EVENT_BODIES holds them all, in EventType's order.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api.orders.event_bodies import derived_event
from api.orders.read_model import FollowUp
from api.orders.schemas import MAX_LINES, QtyLine, unique_skus
from api.schemas import EventId, Strict, Text, instant, instant_or_none
from shared.survey import SURVEY_QUESTIONS
from workflows.order.event_data import EVENTS
from workflows.order.pauses import MAX_PAUSE, PAUSING_REASONS
from workflows.order.types import EventType

# -- events -------------------------------------------------------------------------------


class ConfirmedData(Strict):
    by: str | None = Field(default=None, max_length=120)


class PickedData(Strict):
    lines: list[QtyLine] = Field(min_length=1, max_length=MAX_LINES)
    _lines = field_validator("lines")(unique_skus)


class ShippedData(Strict):
    carrier: Text
    tracking_no: Annotated[str, Field(min_length=1, max_length=120)]
    vehicle: str | None = Field(default=None, max_length=120)
    driver: str | None = Field(default=None, max_length=120)
    lines: list[QtyLine] | None = Field(default=None, max_length=MAX_LINES)
    _lines = field_validator("lines")(unique_skus)


class ScanData(Strict):
    location: Text
    status: Text
    eta: AwareDatetime | None = None
    _eta = field_validator("eta")(instant_or_none)


class Pod(Strict):
    kind: Literal["signature", "photo", "scan"]
    ref: Text


class DeliveredData(Strict):
    signer: Text
    condition: Literal["intact", "damaged", "short", "refused"]
    pod: Pod
    lines: list[QtyLine] | None = Field(default=None, max_length=MAX_LINES)
    _lines = field_validator("lines")(unique_skus)


class Document(Strict):
    ref: Text
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = Field(default=None, ge=0, le=2**53)
    filename: str | None = Field(default=None, max_length=255)


class ReceiptData(Strict):
    document: Document


Score = Annotated[int, Field(ge=1, le=5)]


def _known_questions(value: Any) -> Any:
    """Before the scores are validated one by one: only the survey's questions are keys, so
    20,000 made-up keys are one short refusal and never reach the workflow (issue 14 §6)."""
    if isinstance(value, dict):
        unknown = [key for key in value if key not in SURVEY_QUESTIONS]
        if unknown:
            raise PydanticCustomError(
                "unknown_survey_question",
                "scores answer only the survey's questions ({known}); {count} unknown, e.g. "
                "{some}", {"known": ", ".join(SURVEY_QUESTIONS), "count": len(unknown),
                           "some": ", ".join(repr(str(k)[:64]) for k in unknown[:3])})
    return value


# Survey scores: 1-5 per question of the survey (SURVEY_QUESTIONS), nothing else.
Scores = Annotated[dict[str, Score],
                   Field(max_length=len(SURVEY_QUESTIONS),
                         description="1-5 per survey question: " + ", ".join(SURVEY_QUESTIONS),
                         json_schema_extra={"propertyNames": {"enum": list(SURVEY_QUESTIONS)}}),
                   BeforeValidator(_known_questions)]


class SurveyData(Strict):
    """The seeds' follow-up (seed 003): did the goods arrive in order, how was the service
    (1-5 per question: timeliness, completeness, courtesy), suggestions. Any other score key
    is 422 (error type `unknown_survey_question`)."""

    goods_ok: bool | None = Field(default=None, description="the goods arrived in order")
    scores: Scores = Field(min_length=1)
    suggestions: str | None = Field(default=None, max_length=2000)
    comment: str | None = Field(default=None, max_length=2000)
    channel: Literal["web", "phone", "api"] = "api"


class FollowUpCallData(Strict):
    """A phone follow-up; `answered` carries the survey's answers."""

    outcome: Literal["answered", "no_answer", "refused"]
    goods_ok: bool | None = None
    scores: Scores | None = None
    suggestions: str | None = Field(default=None, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _answers_when_answered(self) -> FollowUpCallData:
        if self.outcome == "answered" and not self.scores:
            raise ValueError("an answered call carries the customer's scores")
        if self.outcome != "answered" and (self.scores or self.goods_ok is not None):
            raise ValueError("only an answered call carries answers")
        return self


class FollowUpCallIn(FollowUpCallData):
    """POST /v1/orders/{id}/follow-up-call: give `call_id` to make a retried post harmless."""

    call_id: EventId | None = None
    occurred_at: AwareDatetime | None = None
    _occurred = field_validator("occurred_at")(instant_or_none)


class FollowUpCallAccepted(BaseModel):
    accepted: bool = True
    duplicate: bool
    stage: str
    event_id: str
    follow_up: FollowUp | None = Field(default=None, description="the follow-up after the call")


class ShortageData(Strict):
    """Stock short at confirmation: what is available per short line."""

    lines: list[QtyLine] = Field(min_length=1, max_length=MAX_LINES,
                                 description="available quantity per short SKU")
    note: str | None = Field(default=None, max_length=2000)
    _lines = field_validator("lines")(unique_skus)


class ShortageDecisionData(Strict):
    """The customer's choice: ship what there is, wait for stock, or cancel."""

    decision: Literal["partial", "backorder", "cancel"]
    decided_by: Text = Field(description="who on the customer's side decided")
    lines: list[QtyLine] | None = Field(default=None, max_length=MAX_LINES,
                                        description="partial: agreed quantities")
    promised_ship_by: AwareDatetime | None = None
    promised_delivery_by: AwareDatetime | None = None
    note: str | None = Field(default=None, max_length=2000)
    _lines = field_validator("lines")(unique_skus)
    _times = field_validator("promised_ship_by", "promised_delivery_by")(
        instant_or_none)

    @model_validator(mode="after")
    def _complete(self) -> ShortageDecisionData:
        if self.decision == "partial" and not self.lines:
            raise ValueError("a partial decision gives the agreed quantities in lines")
        if self.decision == "backorder" and self.promised_delivery_by is None:
            raise ValueError("a backorder gives the new promised_delivery_by")
        if self.decision != "partial" and self.lines:
            raise ValueError("only a partial decision gives lines")
        return self


class DeliveryExceptionData(Strict):
    reason: Literal["address_incorrect", "consignee_absent", "refused", "damaged_in_transit",
                    "lost", "weather", "other", "customer_request"] = Field(
        description="customer_request: the customer asked for a later delivery")
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    promised_delivery_by: AwareDatetime | None = Field(
        default=None, description="a new promise agreed with the customer, if it moves")
    rescheduled_for: AwareDatetime | None = Field(
        default=None, description="consignee_absent or customer_request: when the customer "
        "can take delivery; the delivery deadline pauses until then and runs on with the "
        "working time it had left (the promise stands unless the policy excludes pauses from "
        "on-time). At most 30 days after occurred_at.")
    _time = field_validator("promised_delivery_by", "rescheduled_for")(instant_or_none)

    @model_validator(mode="after")
    def _reschedule_is_the_customers(self) -> DeliveryExceptionData:
        if self.rescheduled_for is None:
            return self
        if self.reason not in PAUSING_REASONS:
            raise ValueError("rescheduled_for is given only with reason "
                             + " or ".join(sorted(PAUSING_REASONS)))
        if self.promised_delivery_by is not None:
            raise ValueError("give a new promised_delivery_by or a rescheduled_for, not both")
        return self


class CancelledData(Strict):
    reason: Text


class PromiseChangedData(Strict):
    """A new promise the customer agreed to; deadlines move to it, nothing restarts."""

    promised_ship_by: AwareDatetime | None = None
    promised_delivery_by: AwareDatetime | None = None
    reason: Text
    _times = field_validator("promised_ship_by", "promised_delivery_by")(
        instant_or_none)

    @model_validator(mode="after")
    def _some_promise(self) -> PromiseChangedData:
        if self.promised_ship_by is None and self.promised_delivery_by is None:
            raise ValueError("give promised_ship_by, promised_delivery_by or both")
        return self


class NoteData(Strict):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class _Event(Strict):
    event_id: EventId
    occurred_at: AwareDatetime
    _occurred = field_validator("occurred_at")(instant)


class ConfirmedEvent(_Event):
    type: Literal["confirmed"]
    data: ConfirmedData = Field(default_factory=ConfirmedData)


class PickedEvent(_Event):
    type: Literal["picked"]
    data: PickedData


class ShippedEvent(_Event):
    type: Literal["shipped"]
    data: ShippedData


class TrackingScanEvent(_Event):
    type: Literal["tracking_scan"]
    data: ScanData


class DeliveredEvent(_Event):
    type: Literal["delivered"]
    data: DeliveredData


class ReceiptReturnedEvent(_Event):
    type: Literal["receipt_returned"]
    data: ReceiptData


class SurveyResponseEvent(_Event):
    type: Literal["survey_response"]
    data: SurveyData


class CancelledEvent(_Event):
    type: Literal["cancelled"]
    data: CancelledData


class NoteEvent(_Event):
    type: Literal["note"]
    data: NoteData


class PromiseChangedEvent(_Event):
    type: Literal["promise_changed"]
    data: PromiseChangedData


class StockShortageEvent(_Event):
    type: Literal["stock_shortage"]
    data: ShortageData


class ShortageDecisionEvent(_Event):
    type: Literal["shortage_decision"]
    data: ShortageDecisionData


class DeliveryExceptionEvent(_Event):
    type: Literal["delivery_exception"]
    data: DeliveryExceptionData

    @model_validator(mode="after")
    def _rescheduled_ahead(self) -> DeliveryExceptionEvent:
        until = self.data.rescheduled_for
        if until is not None and not self.occurred_at < until <= self.occurred_at + MAX_PAUSE:
            raise ValueError(f"rescheduled_for must fall after occurred_at and within "
                             f"{MAX_PAUSE.days} days of it")
        return self


class FollowUpCallEvent(_Event):
    type: Literal["follow_up_call"]
    data: FollowUpCallData


# The hand-written bodies: older event types, whose bodies say more than their data classes
# (lines, nested records, cross-field rules, descriptions). A later event type without one gets
# a body derived from its data class (api/orders/event_bodies.py).
WRITTEN: dict[EventType, type[_Event]] = {
    EventType.CONFIRMED: ConfirmedEvent, EventType.PICKED: PickedEvent,
    EventType.SHIPPED: ShippedEvent, EventType.TRACKING_SCAN: TrackingScanEvent,
    EventType.DELIVERED: DeliveredEvent, EventType.RECEIPT_RETURNED: ReceiptReturnedEvent,
    EventType.SURVEY_RESPONSE: SurveyResponseEvent, EventType.CANCELLED: CancelledEvent,
    EventType.NOTE: NoteEvent, EventType.PROMISE_CHANGED: PromiseChangedEvent,
    EventType.STOCK_SHORTAGE: StockShortageEvent,
    EventType.SHORTAGE_DECISION: ShortageDecisionEvent,
    EventType.DELIVERY_EXCEPTION: DeliveryExceptionEvent,
    EventType.FOLLOW_UP_CALL: FollowUpCallEvent,
}
# Every event type's body, in EventType's order (the order /openapi.json lists them in).
EVENT_BODIES: dict[EventType, type[BaseModel]] = {
    t: WRITTEN.get(t) or derived_event(t, EVENTS[t].data, _Event) for t in EventType}

if TYPE_CHECKING:  # the checker sees the hand-written ones (handlers branch only on those)
    EventIn = Annotated[
        ConfirmedEvent | PickedEvent | ShippedEvent | TrackingScanEvent | DeliveredEvent
        | ReceiptReturnedEvent | SurveyResponseEvent | CancelledEvent | NoteEvent
        | PromiseChangedEvent | StockShortageEvent | ShortageDecisionEvent
        | DeliveryExceptionEvent | FollowUpCallEvent,
        Field(discriminator="type"),
    ]
else:
    EventIn = Annotated[reduce(operator.or_, EVENT_BODIES.values()), Field(discriminator="type")]

EVENT_EXAMPLES = {
    "picked": {"summary": "WMS pick", "value": {
        "event_id": "wms-7781", "type": "picked", "occurred_at": "2026-12-01T08:00:00Z",
        "data": {"lines": [{"sku": "SKU-1", "qty": 10}]}}},
    "shipped": {"summary": "carrier handover", "value": {
        "event_id": "tms-0042", "type": "shipped", "occurred_at": "2026-12-01T09:30:00Z",
        "data": {"carrier": "SF Express", "tracking_no": "SF1234567890", "driver": "Wang"}}},
    "tracking_scan": {"summary": "in-transit scan with ETA", "value": {
        "event_id": "sf-scan-1", "type": "tracking_scan", "occurred_at": "2026-12-02T02:00:00Z",
        "data": {"location": "Hangzhou hub", "status": "departed",
                 "eta": "2026-12-03T12:00:00Z"}}},
    "delivered": {"summary": "proof of delivery", "value": {
        "event_id": "pod-91", "type": "delivered", "occurred_at": "2026-12-03T11:00:00Z",
        "data": {"signer": "Li Lei", "condition": "intact",
                 "pod": {"kind": "signature", "ref": "pod/91.png"}}}},
}


class EventAccepted(BaseModel):
    accepted: bool = True
    duplicate: bool
    stage: str
