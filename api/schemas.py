"""HTTP request and response bodies of API v1 (kept apart from workflow payload types)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api.edge import text
from api.edge.text import contains_nul
from workflows.types import Tier

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
EventId = Annotated[str, Field(min_length=1, max_length=128,
                               pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
# Every list in a request is bounded (issue 14 §6): an order has at most this many lines.
MAX_LINES = 500


RECEIVED_LEEWAY = timedelta(minutes=5)


# No time in a request is earlier (issue 14 §7): an event dated 0001-01-01 once made an order
# on time and skipped its survey.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def instant(value: datetime) -> datetime:
    """A request's time in UTC; before 2000 is refused (error type `occurred_too_early`).

    A time UTC cannot hold (0001-01-01 east of Greenwich, 9999-12-31 west of it) is a
    validation error too, not the OverflowError pydantic would let through (a 500)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        if value.year >= EARLIEST.year:
            raise ValueError("the time is out of range") from None
        utc = datetime.min.replace(tzinfo=UTC)  # before any UTC time: too early, below
    if utc < EARLIEST:
        raise PydanticCustomError("occurred_too_early", "times before {earliest} are not "
                                  "accepted", {"earliest": EARLIEST.isoformat()})
    return utc


def _opt(value: datetime | None) -> datetime | None:
    return instant(value) if value is not None else None


class Strict(BaseModel):
    """A request body: unknown fields and text the database cannot store are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError(text.MESSAGE)
        return value


class CustomerIn(Strict):
    id: Id
    name: Text
    tier: Tier = Tier.STANDARD
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    language: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="language of customer-facing messages")
    key_account_manager: str | None = Field(
        default=None, max_length=120, description="named manager told at the top of the ladder")


class OrderLineIn(Strict):
    sku: Sku
    qty: int = Field(ge=1, le=1_000_000)


class QtyLine(Strict):
    sku: Sku
    qty: int = Field(ge=0, le=1_000_000)


def _unique_skus(lines: list[Any] | None) -> list[Any] | None:
    if lines is not None:
        skus = [line.sku for line in lines]
        if len(skus) != len(set(skus)):
            raise ValueError("each SKU may appear only once")
    return lines


class DestinationIn(Strict):
    address: Text
    city: str | None = Field(default=None, max_length=120)
    contact: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    postcode: str | None = Field(default=None, max_length=20)


class OrderCreate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "order_id": "SO-1001",
        "customer": {"id": "C-88", "name": "Sanghong Apparel", "tier": "key_account",
                     "phone": "+86 21 5555 0100", "email": "ops@example.com"},
        "lines": [{"sku": "SKU-1", "qty": 10}],
        "destination": {"address": "88 Century Ave", "city": "Shanghai", "contact": "Li Lei"},
        "promised_ship_by": "2026-12-01T10:00:00Z",
        "promised_delivery_by": "2026-12-03T18:00:00Z",
        "sla_policy": "standard", "declared_value_minor": 1200000, "weight_kg": 35}]})

    order_id: Id
    customer: CustomerIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    destination: DestinationIn
    promised_ship_by: AwareDatetime
    promised_delivery_by: AwareDatetime
    sla_policy: str | None = Field(default=None, max_length=64)
    received_at: AwareDatetime | None = Field(
        default=None, description="when order intake received the order, if it posts it "
        "after the fact (a backlog, a system catching up); default: now. Cycle times and the "
        "confirm deadline run from it. Not in the future.")
    declared_value_minor: int | None = Field(
        default=None, ge=0, le=10**12, description="declared value of the goods in minor units "
        "of the claim policy's currency (CNY by default): a claim's compensation standard when "
        "no weight is given")
    weight_kg: float | None = Field(
        default=None, gt=0, le=1_000_000, description="weight of the goods: a claim's "
        "compensation standard is the policy's cap_per_kg_minor per kg")

    # Optional fields added after orders were stored: left out of the idempotency hash
    # while unset (api/orders/service.py creation_body).
    ADDED_LATER: ClassVar[tuple[str, ...]] = ("declared_value_minor", "weight_kg")

    _lines = field_validator("lines")(_unique_skus)
    _times = field_validator("promised_ship_by", "promised_delivery_by")(instant)

    @field_validator("received_at")
    @classmethod
    def _received_not_ahead(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # A little leeway for the intake system's clock running ahead of ours.
        if value > datetime.now(UTC) + RECEIVED_LEEWAY:
            raise ValueError("received_at must not be in the future")
        return instant(value)

    @model_validator(mode="after")
    def _promises_in_order(self) -> OrderCreate:
        if self.promised_delivery_by < self.promised_ship_by:
            raise ValueError("promised_delivery_by must not be before promised_ship_by")
        return self


# -- events -------------------------------------------------------------------------------


class ConfirmedData(Strict):
    by: str | None = Field(default=None, max_length=120)


class PickedData(Strict):
    lines: list[QtyLine] = Field(min_length=1, max_length=MAX_LINES)
    _lines = field_validator("lines")(_unique_skus)


class ShippedData(Strict):
    carrier: Text
    tracking_no: Annotated[str, Field(min_length=1, max_length=120)]
    vehicle: str | None = Field(default=None, max_length=120)
    driver: str | None = Field(default=None, max_length=120)
    lines: list[QtyLine] | None = Field(default=None, max_length=MAX_LINES)
    _lines = field_validator("lines")(_unique_skus)


class ScanData(Strict):
    location: Text
    status: Text
    eta: AwareDatetime | None = None
    _eta = field_validator("eta")(_opt)


class Pod(Strict):
    kind: Literal["signature", "photo", "scan"]
    ref: Text


class DeliveredData(Strict):
    signer: Text
    condition: Literal["intact", "damaged", "short", "refused"]
    pod: Pod
    lines: list[QtyLine] | None = Field(default=None, max_length=MAX_LINES)
    _lines = field_validator("lines")(_unique_skus)


class Document(Strict):
    ref: Text
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str | None = Field(default=None, max_length=100)
    size: int | None = Field(default=None, ge=0, le=2**53)
    filename: str | None = Field(default=None, max_length=255)


class ReceiptData(Strict):
    document: Document


Score = Annotated[int, Field(ge=1, le=5)]
SURVEY_QUESTIONS = ("timeliness", "completeness", "courtesy")


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
    _occurred = field_validator("occurred_at")(_opt)


class FollowUpCallAccepted(BaseModel):
    accepted: bool = True
    duplicate: bool
    stage: str
    event_id: str
    follow_up: dict[str, Any] | None = None


class ShortageData(Strict):
    """Stock short at confirmation: what is available per short line."""

    lines: list[QtyLine] = Field(min_length=1, max_length=MAX_LINES,
                                 description="available quantity per short SKU")
    note: str | None = Field(default=None, max_length=2000)
    _lines = field_validator("lines")(_unique_skus)


class ShortageDecisionData(Strict):
    """The customer's choice: ship what there is, wait for stock, or cancel."""

    decision: Literal["partial", "backorder", "cancel"]
    decided_by: Text = Field(description="who on the customer's side decided")
    lines: list[QtyLine] | None = Field(default=None, max_length=MAX_LINES,
                                        description="partial: agreed quantities")
    promised_ship_by: AwareDatetime | None = None
    promised_delivery_by: AwareDatetime | None = None
    note: str | None = Field(default=None, max_length=2000)
    _lines = field_validator("lines")(_unique_skus)
    _times = field_validator("promised_ship_by", "promised_delivery_by")(
        _opt)

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
                    "lost", "weather", "other"]
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    promised_delivery_by: AwareDatetime | None = Field(
        default=None, description="a new promise agreed with the customer, if it moves")
    _time = field_validator("promised_delivery_by")(_opt)


class CancelledData(Strict):
    reason: Text


class PromiseChangedData(Strict):
    """A new promise the customer agreed to; deadlines move to it, nothing restarts."""

    promised_ship_by: AwareDatetime | None = None
    promised_delivery_by: AwareDatetime | None = None
    reason: Text
    _times = field_validator("promised_ship_by", "promised_delivery_by")(
        _opt)

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


class FollowUpCallEvent(_Event):
    type: Literal["follow_up_call"]
    data: FollowUpCallData


EventIn = Annotated[
    ConfirmedEvent | PickedEvent | ShippedEvent | TrackingScanEvent | DeliveredEvent
    | ReceiptReturnedEvent | SurveyResponseEvent | CancelledEvent | NoteEvent
    | PromiseChangedEvent | StockShortageEvent | ShortageDecisionEvent | DeliveryExceptionEvent
    | FollowUpCallEvent,
    Field(discriminator="type"),
]

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


# -- views --------------------------------------------------------------------------------


class LineView(BaseModel):
    sku: str
    ordered: int
    picked: int | None = None
    shipped: int | None = None
    delivered: int | None = None
    agreed: int | None = Field(default=None, description="agreed by the customer after a "
                               "shortage; in-full is judged against it")


class DeadlineView(BaseModel):
    kind: str
    due_at: datetime


class EscalationView(BaseModel):
    id: str
    order_id: str
    breach_id: str
    kind: str
    stage: str
    level: int
    state: str
    customer_id: str
    customer_tier: str
    due_at: datetime
    opened_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_code: str | None = None
    resolution: str | None = None
    assignee: str | None = None
    recipients: list[str] | None = None
    level_since: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = None
    next_step_at: datetime | None = None
    subject: str = Field(default="", description="what breached when not the order itself: "
                         "claim:<id> or complaint:<id>")


class OrderView(BaseModel):
    order_id: str
    customer: dict[str, Any]
    lines: list[LineView]
    destination: dict[str, Any]
    stage: str
    stage_times: dict[str, datetime | None]
    promised_ship_by: datetime
    promised_delivery_by: datetime
    sla_policy: dict[str, Any]
    next_deadline: DeadlineView | None = None
    breached: bool
    breaches: list[dict[str, Any]]
    open_escalations: list[EscalationView]
    in_full: bool | None = None
    on_time: bool | None = None
    shipment: dict[str, Any] | None = None
    latest_eta: datetime | None = None
    delivery: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None
    follow_up: dict[str, Any] | None = None
    cancel_reason: str | None = None
    awaiting_decision: dict[str, Any] | None = Field(
        default=None, description="a shortage or short pick awaiting the customer's choice")
    decisions: list[dict[str, Any]] = Field(default_factory=list)
    exceptions: list[dict[str, Any]] = Field(default_factory=list)
    claims: list[dict[str, Any]] = Field(default_factory=list)
    complaints: list[str] = Field(default_factory=list)
    declared_value_minor: int | None = Field(default=None, description="claims' compensation "
                                             "basis given at creation")
    weight_kg: float | None = None
    workflow_id: str
    created_at: datetime
    updated_at: datetime


class OrderPage(BaseModel):
    items: list[OrderView]
    next_cursor: str | None = None


class TimelineEntryView(BaseModel):
    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str
    data: dict[str, Any]


class Timeline(BaseModel):
    order_id: str
    items: list[TimelineEntryView]


class EscalationPage(BaseModel):
    items: list[EscalationView]
