"""HTTP bodies of claims (理赔): opening one, its typed events, and its views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from api.schemas import EventId, Strict, to_utc
from workflows.claim_types import ClaimCause, DocumentKind, Liability

LongText = Annotated[str, Field(min_length=1, max_length=2000)]


class ClaimOpen(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "cause": "damaged", "description": "two cartons crushed, consignee signed with remarks"}]})

    cause: ClaimCause
    description: LongText
    request_id: EventId | None = Field(
        default=None, description="makes a retried request harmless while the order runs: "
        "the same request_id gets the claim it already opened")


class ClaimOpened(BaseModel):
    claim_id: str
    order_id: str
    cause: str
    origin: str
    workflow_id: str


# -- events -------------------------------------------------------------------------------


class ContactData(Strict):
    channel: Literal["phone", "email", "visit", "message", "other"]
    note: str | None = Field(default=None, max_length=2000)


class LiabilityData(Strict):
    liability: Liability
    note: str | None = Field(default=None, max_length=2000)


class OverrideIn(Strict):
    reason: LongText = Field(description="why the amount may exceed the compensation standard")


class CompensationData(Strict):
    """The amount in minor units (fen for CNY). The standard caps it at the policy's
    `cap_per_kg_minor` per kg when `weight_kg` is given, else at `declared_value_minor`;
    above it a supervisor (or admin) key must send `override` with a reason."""

    amount_minor: int = Field(ge=0, le=10**12)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])
    weight_kg: float | None = Field(default=None, gt=0, le=1_000_000,
                                    description="weight of the goods lost or damaged")
    declared_value_minor: int | None = Field(default=None, ge=0, le=10**12,
                                             description="declared value of the lines affected")
    override: OverrideIn | None = None
    note: str | None = Field(default=None, max_length=2000)


class PayoutData(Strict):
    voucher: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="the payout voucher (赔付凭证) reference")
    note: str | None = Field(default=None, max_length=2000)


class WithdrawnData(Strict):
    reason: LongText


class ClaimNoteData(Strict):
    text: LongText


class _ClaimEvent(Strict):
    event_id: EventId
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it happened; default now. A step counts as done then, "
                                  "but never later than now nor before the step before it")
    _occurred = field_validator("occurred_at")(lambda v: to_utc(v) if v else v)


class CustomerContactedEvent(_ClaimEvent):
    type: Literal["customer_contacted"]
    data: ContactData


class LiabilityDecidedEvent(_ClaimEvent):
    type: Literal["liability_decided"]
    data: LiabilityData


class CompensationSetEvent(_ClaimEvent):
    type: Literal["compensation_set"]
    data: CompensationData


class PayoutIssuedEvent(_ClaimEvent):
    type: Literal["payout_issued"]
    data: PayoutData


class WithdrawnEvent(_ClaimEvent):
    type: Literal["withdrawn"]
    data: WithdrawnData


class ClaimNoteEvent(_ClaimEvent):
    type: Literal["note"]
    data: ClaimNoteData


ClaimEventIn = Annotated[
    CustomerContactedEvent | LiabilityDecidedEvent | CompensationSetEvent | PayoutIssuedEvent
    | WithdrawnEvent | ClaimNoteEvent,
    Field(discriminator="type"),
]

CLAIM_EVENT_EXAMPLES = {
    "customer_contacted": {"summary": "the customer was called", "value": {
        "event_id": "cl-1", "type": "customer_contacted",
        "data": {"channel": "phone", "note": "apologised, asked for photos"}}},
    "liability_decided": {"summary": "the carrier is liable", "value": {
        "event_id": "cl-2", "type": "liability_decided", "data": {"liability": "carrier"}}},
    "compensation_set": {"summary": "compensation by weight", "value": {
        "event_id": "cl-3", "type": "compensation_set",
        "data": {"amount_minor": 30000, "currency": "CNY", "weight_kg": 20}}},
    "compensation_override": {"summary": "above the standard (supervisor key)", "value": {
        "event_id": "cl-3b", "type": "compensation_set",
        "data": {"amount_minor": 60000, "currency": "CNY", "weight_kg": 20,
                 "override": {"reason": "fragile goods, agreed with the key-account manager"}}}},
    "payout_issued": {"summary": "payout voucher", "value": {
        "event_id": "cl-4", "type": "payout_issued", "data": {"voucher": "PV-2026-0001"}}},
}


class ClaimEventAccepted(BaseModel):
    accepted: bool = True
    duplicate: bool
    claim_id: str
    state: str
    step: str


# -- views --------------------------------------------------------------------------------


class ClaimView(BaseModel):
    id: str
    order_id: str
    customer_id: str
    customer_tier: str
    cause: str
    origin: str
    state: str
    step: str = Field(description="the last step done")
    awaiting: str | None = Field(default=None, description="the next step, due at `due_at`")
    due_at: datetime | None = None
    breached: bool
    liability: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    cap_minor: int | None = Field(default=None, description="the compensation standard")
    cap_basis: str | None = Field(default=None, description="weight, declared_value or "
                                                            "not_liable")
    override_reason: str | None = None
    override_by: str | None = None
    voucher: str | None = None
    outcome: str | None = None
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None = None
    workflow_id: str


class ClaimPage(BaseModel):
    items: list[ClaimView]
    next_cursor: str | None = None


class ClaimStepView(BaseModel):
    step: str
    due_at: datetime | None = None
    done_at: datetime | None = None


class ClaimDocumentView(BaseModel):
    kind: DocumentKind
    sha256: str
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None
    added_at: datetime
    added_by: str
    url: str


class ClaimBreachView(BaseModel):
    step: str
    due_at: datetime
    detected_at: datetime
    cleared_at: datetime | None = None
    escalation_id: str


class ClaimTimelineView(BaseModel):
    seq: int
    event_id: str
    type: str
    at: datetime
    occurred_at: datetime
    actor: str
    source: str
    data: dict[str, Any]


class ClaimDetail(ClaimView):
    description: str
    customer: dict[str, Any]
    weight_kg: float | None = None
    declared_value_minor: int | None = None
    steps: list[ClaimStepView]
    documents: list[ClaimDocumentView]
    breaches: list[ClaimBreachView]
    timeline: list[ClaimTimelineView]


class ClaimDocumentUploaded(ClaimDocumentView):
    claim_id: str
    duplicate: bool = Field(description="these bytes were already this claim's document of "
                                        "this kind")
    step: str
    state: str
