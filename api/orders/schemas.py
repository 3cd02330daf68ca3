"""HTTP bodies of orders: creating one, and the order, page and timeline views.

Kept apart from the workflow's payload types (workflows/order/types.py), which are history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api.escalations.schemas import EscalationView
from api.orders.read_model import (
    Breach,
    ClaimRef,
    CustomerView,
    Deadline,
    Decision,
    Delivery,
    DeliveryException,
    DestinationView,
    FollowUp,
    LineView,
    Pause,
    PendingDecision,
    Receipt,
    Shipment,
)
from api.schemas import Id, Sku, Strict, Text, instant
from workflows.order.types import Stage, Tier

# Every list in a request is bounded (issue 14 §6): an order has at most this many lines.
MAX_LINES = 500


RECEIVED_LEEWAY = timedelta(minutes=5)


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


def unique_skus(lines: list[Any] | None) -> list[Any] | None:
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

    _lines = field_validator("lines")(unique_skus)
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


# -- views --------------------------------------------------------------------------------


class PolicyRef(BaseModel):
    name: str = Field(description="the SLA policy the order runs under")
    version: str = Field(description="its version, kept for the order's whole life")


class OrderView(BaseModel):
    """One order as the read model holds it (api/orders/read_model.py)."""

    order_id: str = Field(description="the shipper's order id")
    customer: CustomerView = Field(description="who ordered")
    lines: list[LineView] = Field(description="quantities per SKU, ordered to delivered")
    destination: DestinationView = Field(description="where the goods go")
    stage: Stage = Field(description="where the order is on its path")
    stage_times: dict[Stage, datetime | None] = Field(
        description="when the order entered each stage; null for stages not reached")
    promised_ship_by: datetime = Field(description="the ship-by promise (as last agreed)")
    promised_delivery_by: datetime = Field(description="the delivery promise (as last agreed)")
    sla_policy: PolicyRef = Field(description="the SLA policy version the order keeps")
    next_deadline: Deadline | None = Field(default=None, description="the next deadline due")
    breached: bool = Field(description="some deadline was missed")
    breaches: list[Breach] = Field(description="every missed deadline, cleared or not")
    open_escalations: list[EscalationView] = Field(description="escalations not yet resolved")
    in_full: bool | None = Field(default=None, description="every line in the agreed quantity "
                                 "(known once picked, final at delivery)")
    on_time: bool | None = Field(default=None, description="delivered by the promise")
    shipment: Shipment | None = Field(default=None, description="the carrier handover")
    latest_eta: datetime | None = Field(default=None, description="the latest scan's ETA")
    delivery: Delivery | None = Field(default=None, description="the consignee's sign-off")
    receipt: Receipt | None = Field(default=None, description="the signed receipt (回单)")
    follow_up: FollowUp | None = Field(default=None, description="the follow-up (回访)")
    cancel_reason: str | None = Field(default=None, description="why it was cancelled")
    awaiting_decision: PendingDecision | None = Field(
        default=None, description="a shortage or short pick awaiting the customer's choice")
    decisions: list[Decision] = Field(default_factory=list,
                                      description="the customer's shortage decisions")
    exceptions: list[DeliveryException] = Field(default_factory=list,
                                                description="delivery exceptions reported")
    claims: list[ClaimRef] = Field(default_factory=list, description="the order's claims")
    complaints: list[str] = Field(default_factory=list,
                                  description="ids of the order's complaints")
    pauses: list[Pause] = Field(default_factory=list, description="customer-caused waits "
                                "that paused the delivery deadline (issue 19 §5)")
    declared_value_minor: int | None = Field(default=None, description="claims' compensation "
                                             "basis given at creation")
    weight_kg: float | None = Field(default=None, description="the goods' weight given at "
                                    "creation: claims' compensation basis")
    tracking_url: str | None = Field(
        default=None, description="the customer's tracking page, a signed link to give the "
                                  "customer (every customer notice carries it too); single-order "
                                  "reads only")
    workflow_id: str = Field(description="the order's Temporal workflow")
    created_at: datetime = Field(description="when Waybill recorded the order")
    updated_at: datetime = Field(description="when the read model last changed")


class OrderPage(BaseModel):
    items: list[OrderView]
    next_cursor: str | None = None


class TimelineEntryView(BaseModel):
    """One item of the order's story. The first seven fields are what the timeline always had
    (the order's own entries); `kind` and `subject_id` came with the merged story (issue 17)."""

    event_id: str = Field(description="unique within the story; an escalation step is "
                          "`<escalation id>#<seq>`, a claim's or complaint's entry "
                          "`<case id>#<event id>`, a notification `outbox:<row id>`")
    type: str = Field(description="the entry's type within its kind: an order event type, an "
                      "escalation action (opened, notified, climbed, acknowledged, snoozed, "
                      "reassigned, resolved...), a claim's or complaint's event type, or a "
                      "notification event type (order.shipped, escalation.level_changed...)")
    occurred_at: datetime = Field(description="event time: when it happened")
    recorded_at: datetime = Field(description="record time: when Waybill recorded it")
    actor: str = Field(description="who did it: a key's name, or `system`")
    source: str = Field(description="how it came in: api, console, system, escalation, outbox...")
    data: dict[str, Any] = Field(description="the entry's own data; a notification's is its "
                                 "channel, recipient, status (delivery outcome) and attempts, "
                                 "never the message body or the receiver's answer")
    kind: Literal["order", "escalation", "claim", "complaint", "notification"] = "order"
    subject_id: str | None = Field(default=None, description="the escalation, claim, complaint "
                                   "or outbox row the item belongs to; null for the order's own")


class Timeline(BaseModel):
    order_id: str
    items: list[TimelineEntryView]
    kinds: list[str] = Field(default_factory=list,
                             description="the kinds included (the `kind` filter, or all)")
    truncated: bool = Field(default=False, description="true when the story is longer than "
                            "the items returned (at most `limit`; the earliest are kept)")
