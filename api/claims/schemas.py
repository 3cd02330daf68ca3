"""HTTP bodies of claims (理赔): opening one, its typed events, and its views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from api.schemas import EventId, Strict, instant
from workflows.claim.types import ClaimCause, DocumentKind, Liability

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


_BASIS_NOTE = ("; the recorded basis comes from the order (or a supervisor's basis_set): an "
               "operator may only repeat it, a different value is 403 basis_change_forbidden, "
               "a supervisor's is recorded as a basis change")


class CompensationData(Strict):
    """The amount in minor units (fen for CNY). The standard caps it at the policy's
    `cap_per_kg_minor` per kg when a weight is recorded, else at the declared value, both
    taken from the order as created or from a supervisor's recorded decision (never from an
    operator's request); above it a supervisor (or admin) key must send `override` with a
    reason. Without a recorded basis an amount above 0 is 422 compensation_basis_required."""

    amount_minor: int = Field(ge=0, le=10**12)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["CNY"])
    weight_kg: float | None = Field(default=None, gt=0, le=1_000_000,
                                    description="weight of the goods lost or damaged"
                                    + _BASIS_NOTE)
    declared_value_minor: int | None = Field(default=None, ge=0, le=10**12,
                                             description="declared value of the lines affected"
                                             + _BASIS_NOTE)
    override: OverrideIn | None = None
    note: str | None = Field(default=None, max_length=2000)


class BasisSetData(Strict):
    """A supervisor's (or admin's) decision on the compensation basis; recorded with who,
    when, the old and the new values."""

    weight_kg: float | None = Field(default=None, gt=0, le=1_000_000)
    declared_value_minor: int | None = Field(default=None, ge=0, le=10**12)
    reason: LongText


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
    _occurred = field_validator("occurred_at")(lambda v: instant(v) if v else v)


class CustomerContactedEvent(_ClaimEvent):
    type: Literal["customer_contacted"]
    data: ContactData


class LiabilityDecidedEvent(_ClaimEvent):
    type: Literal["liability_decided"]
    data: LiabilityData


class CompensationSetEvent(_ClaimEvent):
    type: Literal["compensation_set"]
    data: CompensationData


class BasisSetEvent(_ClaimEvent):
    type: Literal["basis_set"]
    data: BasisSetData


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
    | WithdrawnEvent | ClaimNoteEvent | BasisSetEvent,
    Field(discriminator="type"),
]

CLAIM_EVENT_EXAMPLES = {
    "customer_contacted": {"summary": "the customer was called", "value": {
        "event_id": "cl-1", "type": "customer_contacted",
        "data": {"channel": "phone", "note": "apologised, asked for photos"}}},
    "liability_decided": {"summary": "the carrier is liable", "value": {
        "event_id": "cl-2", "type": "liability_decided", "data": {"liability": "carrier"}}},
    "basis_set": {"summary": "the compensation basis (supervisor key)", "value": {
        "event_id": "cl-2b", "type": "basis_set",
        "data": {"weight_kg": 20, "reason": "weighed at the hub: 20 kg damaged"}}},
    "compensation_set": {"summary": "compensation against the recorded basis", "value": {
        "event_id": "cl-3", "type": "compensation_set",
        "data": {"amount_minor": 30000, "currency": "CNY"}}},
    "compensation_override": {"summary": "above the standard (supervisor key)", "value": {
        "event_id": "cl-3b", "type": "compensation_set",
        "data": {"amount_minor": 60000, "currency": "CNY",
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
    basis_changes: list[dict[str, Any]] = Field(
        default_factory=list, description="each change of the compensation basis: at, by, "
        "role, old, new, reason")
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
