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
from api.schemas import Id, Sku, Strict, Text, instant
from workflows.order.types import Tier

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
