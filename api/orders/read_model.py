"""The order's read model, typed: the `orders` row's JSON columns and its `detail` (which
db/orders/queries.py `_detail` writes from the workflow's OrderState) parsed once, here.

The API's OrderView is built from these models and the console's order pages read their
attributes, so a key of the stored JSON is spelled in this module only. They sit in api/ (not
db/) because they are what the API publishes: their descriptions are /openapi.json's.

Rows written by older versions lack keys that came later: every such field has a default, and
a key the row does not hold is left out of the JSON again (`Stored`), so the API shows a row
as it was stored. Keys this module does not know are dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from db.orders.models import Order
from workflows.claim.types import ClaimCause
from workflows.order.types import BreachKind, FollowUpStatus, Stage, Tier


class Stored(BaseModel):
    """A part of the read model: serialized with the keys it was read with, no more."""

    model_config = ConfigDict(extra="ignore")

    @model_serializer(mode="wrap")
    def _as_stored(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        return {k: v for k, v in dumped.items() if k in self.model_fields_set}

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # The serializer above only leaves keys out: the fields describe what it writes.
        fields_only = {k: v for k, v in schema.items() if k != "serialization"}
        return handler(fields_only)


# -- the row's own JSON columns ---------------------------------------------------------------


class CustomerView(Stored):
    id: str = Field(description="the customer's id in the shipper's systems")
    name: str = Field(description="the customer's name")
    tier: Tier = Field(description="service tier: key accounts get tighter SLAs")
    phone: str | None = Field(default=None, description="where customer notices are texted")
    email: str | None = Field(default=None, description="where customer notices are mailed")
    language: str = Field(default="zh-CN", description="language of customer-facing messages")
    key_account_manager: str | None = Field(
        default=None, description="named manager told at the top of the escalation ladder")


class DestinationView(Stored):
    address: str = Field(description="street address")
    city: str | None = Field(default=None, description="city")
    contact: str | None = Field(default=None, description="consignee contact person")
    phone: str | None = Field(default=None, description="consignee phone")
    postcode: str | None = Field(default=None, description="postcode")


class LineView(BaseModel):
    """Every quantity column is shown, null until known: the API always showed lines so."""

    model_config = ConfigDict(extra="ignore")

    sku: str = Field(description="the line's SKU")
    ordered: int = Field(description="quantity ordered")
    picked: int | None = Field(default=None, description="quantity picked, once picked")
    shipped: int | None = Field(default=None, description="quantity handed to the carrier, "
                                "if the shipped event gave lines")
    delivered: int | None = Field(default=None, description="quantity delivered")
    agreed: int | None = Field(default=None, description="agreed by the customer after a "
                               "shortage; in-full is judged against it")


# -- the detail ---------------------------------------------------------------------------------


class Shipment(Stored):
    carrier: str | None = Field(default=None, description="the carrier (承运商) it was handed to")
    tracking_no: str | None = Field(default=None, description="the carrier's tracking number")
    vehicle: str | None = Field(default=None, description="vehicle, if given at handover")
    driver: str | None = Field(default=None, description="driver, if given at handover")


class ProofOfDelivery(Stored):
    kind: str = Field(description="signature, photo or scan")
    ref: str = Field(description="where the proof is kept")


class Delivery(Stored):
    signer: str | None = Field(default=None, description="who signed for the goods")
    condition: str | None = Field(default=None, description="intact, damaged, short or refused")
    pod: ProofOfDelivery | None = Field(default=None, description="proof of delivery")


class ReceiptDocument(Stored):
    sha256: str = Field(description="SHA-256 of the archived document")
    ref: str | None = Field(default=None, description="where the document is archived")
    content_type: str | None = Field(default=None, description="the document's media type")
    size: int | None = Field(default=None, description="bytes")
    filename: str | None = Field(default=None, description="the uploaded file's name")


class ReceiptVersion(ReceiptDocument):
    version: int | None = Field(default=None, description="1 for the first receipt, then up")
    returned_at: datetime | None = Field(default=None, description="when this version came in")
    actor: str | None = Field(default=None, description="who sent it")
    previous_sha256: str | None = Field(default=None, description="the version before it")


class Receipt(Stored):
    document: ReceiptDocument = Field(description="the current (newest) document")
    returned_at: datetime | None = Field(
        default=None, description="when the first receipt came back (ends the receipt track)")
    versions: list[ReceiptVersion] = Field(
        default_factory=list, description="every version, oldest first; absent in orders "
        "archived before receipts had versions (their document is version 1)")


class Call(Stored):
    at: datetime = Field(description="when the call was recorded")
    outcome: str = Field(description="answered, no_answer or refused")
    actor: str | None = Field(default=None, description="who called")
    note: str | None = Field(default=None, description="the caller's note")


class FollowUp(Stored):
    """The follow-up (回访): the survey, and the calls made when it goes unanswered."""

    status: FollowUpStatus = Field(description="pending, due, answered or unsuccessful")
    due_at: datetime = Field(description="when the survey is sent")
    expires_at: datetime = Field(description="end of the answer window")
    scores: dict[str, int] | None = Field(default=None, description="1-5 per survey question")
    comment: str | None = Field(default=None, description="the customer's comment")
    answered_at: datetime | None = Field(default=None, description="when it was answered")
    remind_at: datetime | None = Field(default=None, description="when a reminder goes out")
    reminded_at: datetime | None = Field(default=None, description="when it went out")
    goods_ok: bool | None = Field(default=None, description="the goods arrived in order")
    suggestions: str | None = Field(default=None, description="the customer's suggestions")
    channel: str | None = Field(default=None, description="web, phone or api")
    outcome: str | None = Field(default=None, description="answered, refused or expired")
    calls: list[Call] = Field(default_factory=list, description="follow-up calls, in order")
    next_call_at: datetime | None = Field(default=None, description="when to call again")
    problems: list[str] = Field(default_factory=list,
                                description="what the answers flag, e.g. low_score:courtesy")


class Breach(Stored):
    id: str = Field(description="the breach's id")
    kind: BreachKind = Field(description="which deadline was missed")
    stage: Stage = Field(description="the stage the order was in")
    due_at: datetime = Field(description="the deadline")
    detected_at: datetime = Field(description="when Waybill recorded the breach")
    cleared_at: datetime | None = Field(default=None, description="when it was cleared")
    cleared_by: str | None = Field(default=None, description="the event that cleared it")
    escalation_id: str | None = Field(default=None, description="the escalation it opened")


class Deadline(Stored):
    kind: str = Field(description="the deadline's kind (a breach kind, or survey_window)")
    due_at: datetime = Field(description="when it falls due")


class PendingDecision(Stored):
    kind: str = Field(description="stock_shortage or short_pick")
    reported_at: datetime = Field(description="when the shortage was reported")
    due_at: datetime = Field(description="when the customer's decision is due")
    event_id: str = Field(description="the event that reported the shortage")
    available: dict[str, int] = Field(default_factory=dict,
                                      description="available quantity per short SKU")


class QtyLine(Stored):
    sku: str = Field(description="SKU")
    qty: int = Field(description="quantity")


class Decision(Stored):
    kind: str = Field(description="stock_shortage or short_pick")
    decision: str = Field(description="partial, backorder or cancel")
    decided_by: str | None = Field(default=None, description="who on the customer's side")
    recorded_by: str | None = Field(default=None, description="who recorded it")
    at: datetime = Field(description="when it was recorded")
    lines: list[QtyLine] | None = Field(default=None, description="partial: agreed quantities")
    promised_delivery_by: datetime | None = Field(default=None,
                                                  description="backorder: the new promise")


class DeliveryException(Stored):
    event_id: str = Field(description="the delivery_exception event")
    reason: str = Field(description="address_incorrect, consignee_absent, refused, "
                        "damaged_in_transit, lost, weather, other or customer_request")
    text: str = Field(description="what happened")
    at: datetime = Field(description="when it was recorded")
    actor: str | None = Field(default=None, description="who reported it")
    promised_delivery_by: datetime | None = Field(
        default=None, description="a new promise agreed with the customer, if it moved")


class Pause(Stored):
    """A customer-caused wait that paused the delivery deadline (issue 19 §5)."""

    event_id: str = Field(description="the delivery_exception that asked for it")
    cause: str = Field(description="consignee_absent or customer_request")
    since: datetime = Field(description="when the deadline paused")
    until: datetime = Field(description="the time the customer rescheduled to")
    resumed_at: datetime | None = Field(
        default=None, description="when the deadline ran on (sooner than `until` if the "
        "goods were delivered meanwhile)")
    deadline: str = Field(default="delivery_late", description="the deadline paused")


class ClaimRef(Stored):
    claim_id: str = Field(description="the claim (理赔)")
    cause: ClaimCause = Field(description="why it was opened")
    opened_at: datetime = Field(description="when it was opened")
    origin: str = Field(description="delivery, delivery_exception or manual")
    closed_at: datetime | None = Field(default=None, description="when it closed")
    outcome: str | None = Field(default=None, description="how it closed")


class OrderDetail(Stored):
    """The whole `detail` column; every key optional (a new order's detail is empty)."""

    shipment: Shipment | None = None
    latest_eta: datetime | None = None
    delivery: Delivery | None = None
    receipt: Receipt | None = None
    survey: FollowUp | None = None
    breaches: list[Breach] = Field(default_factory=list)
    cancel_reason: str | None = None
    next_deadline: Deadline | None = None
    decision: PendingDecision | None = None
    decisions: list[Decision] = Field(default_factory=list)
    exceptions: list[DeliveryException] = Field(default_factory=list)
    claims: list[ClaimRef] = Field(default_factory=list)
    complaints: list[str] = Field(default_factory=list)
    lost: bool = False
    pauses: list[Pause] = Field(default_factory=list)  # issue 19 §5


class _Breaches(Stored):
    """Just the breaches of a detail (the board reads no more, for a column of cards)."""

    breaches: list[Breach] = Field(default_factory=list)


def detail_of(row: Order) -> OrderDetail:
    return OrderDetail.model_validate(row.detail or {})


def open_breaches_of(row: Order) -> list[Breach]:
    """The order's breaches not yet cleared, most overdue first."""
    breaches = _Breaches.model_validate(row.detail or {}).breaches
    return sorted((b for b in breaches if b.cleared_at is None), key=lambda b: b.due_at)


def customer_of(row: Order) -> CustomerView:
    return CustomerView.model_validate(row.customer)


def destination_of(row: Order) -> DestinationView:
    return DestinationView.model_validate(row.destination)


def lines_of(row: Order) -> list[LineView]:
    return [LineView.model_validate(line) for line in row.lines or []]
