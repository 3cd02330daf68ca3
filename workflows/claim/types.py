"""Payloads between an order and its claims (理赔); the claim's own types live beside them.

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from workflows.order.types import Customer, LineState, Stage
from workflows.policy import SlaPolicy


class ClaimCause(StrEnum):
    DAMAGED = "damaged"
    SHORT = "short"
    REFUSED = "refused"
    LOST = "lost"
    OTHER = "other"


@dataclass
class ClaimInput:
    """Opens a ClaimWorkflow. `origin`: delivery (POD condition), delivery_exception (lost),
    or manual (POST /v1/orders/{id}/claims). With `notify_order` the claim signals the order's
    `claim_closed` when it closes, because the order cannot close while a claim is open."""

    claim_id: str
    order_id: str
    cause: ClaimCause
    origin: str
    opened_at: datetime
    actor: str
    source: str
    customer: Customer
    order_stage: Stage
    policy: SlaPolicy
    lines: list[LineState]
    description: str = ""
    notify_order: bool = True
    # The compensation basis the order was created with; None in older histories.
    declared_value_minor: int | None = None
    weight_kg: float | None = None
    # Set when a run continued as new (workflows/case.py): the claim goes on from it.
    resume: ClaimResume | None = None


@dataclass
class ClaimResume:
    """What a claim's next run picks up: its status, the event ids it applied (with the start of
    their body hash: workflows/rejections.py `remembered`) and its timeline entries so far."""

    status: ClaimStatus
    event_hashes: dict[str, str]
    entries: int  # timeline entries numbered so far: the next run numbers on from here


@dataclass
class ClaimClosed:
    """Signal to the order: this claim is closed (paid out, or closed without payment)."""

    claim_id: str
    outcome: str


@dataclass
class OpenClaimInput:
    """Update on the order: open a claim by hand."""

    cause: ClaimCause
    description: str
    actor: str
    source: str


class ClaimStep(StrEnum):
    """The claim's steps in order (seed 003); each has a deadline from the one before."""

    OPENED = "opened"
    CUSTOMER_CONTACTED = "customer_contacted"
    EVIDENCE_COLLECTED = "evidence_collected"
    LIABILITY_DECIDED = "liability_decided"
    COMPENSATION_SET = "compensation_set"
    PAYOUT_ISSUED = "payout_issued"
    CLOSED = "closed"


STEP_ORDER = tuple(ClaimStep)


class ClaimState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Liability(StrEnum):
    CARRIER = "carrier"
    WAREHOUSE = "warehouse"
    CUSTOMER = "customer"
    FORCE_MAJEURE = "force_majeure"


# Liable parties that compensate by the standard; for the others the standard is 0 and any
# goodwill payment is an override.
COMPENSATING = frozenset({Liability.CARRIER, Liability.WAREHOUSE})


class ClaimOutcome(StrEnum):
    PAID = "paid"  # a payout voucher was issued
    NO_COMPENSATION = "no_compensation"  # compensation set to 0: closed without payout
    WITHDRAWN = "withdrawn"  # withdrawn (by the customer, or opened in error)


class ClaimEventType(StrEnum):
    CUSTOMER_CONTACTED = "customer_contacted"
    DOCUMENT_ADDED = "document_added"
    LIABILITY_DECIDED = "liability_decided"
    COMPENSATION_SET = "compensation_set"
    PAYOUT_ISSUED = "payout_issued"
    WITHDRAWN = "withdrawn"
    NOTE = "note"
    BASIS_SET = "basis_set"  # a supervisor records the compensation basis


class ClaimSystemEvent(StrEnum):
    """Timeline entries written by the claim itself."""

    OPENED = "opened"
    EVIDENCE_COLLECTED = "evidence_collected"
    STEP_LATE = "step_late"
    BREACH_CLEARED = "breach_cleared"
    CLOSED = "closed"
    BASIS_CHANGED = "basis_changed"  # who changed the compensation basis, when, old and new


class DocumentKind(StrEnum):
    ACCIDENT_REPORT = "accident_report"
    DELIVERY_NOTE = "delivery_note"
    PHOTO = "photo"
    OTHER = "other"


EVIDENCE_KINDS = frozenset({DocumentKind.ACCIDENT_REPORT, DocumentKind.DELIVERY_NOTE})

# Roles whose key may set a compensation above the standard, or set or change its basis; the
# permission table (api/permissions.py SUPERVISORS) reads this set.
OVERRIDE_ROLES = frozenset({"supervisor", "admin"})
# The fields the compensation standard is computed from (see workflows/claim/workflow.py).
BASIS_FIELDS = ("weight_kg", "declared_value_minor")


@dataclass(frozen=True)
class Basis:
    """What the compensation standard is computed from; an event's basis names some or none
    (a field left out keeps the recorded value). Its JSON is {weight_kg, declared_value_minor}."""

    weight_kg: float | None = None
    declared_value_minor: int | None = None

    def over(self, recorded: Basis) -> Basis:
        """`recorded` with the fields this basis names."""
        return Basis(
            weight_kg=recorded.weight_kg if self.weight_kg is None else self.weight_kg,
            declared_value_minor=recorded.declared_value_minor
            if self.declared_value_minor is None else self.declared_value_minor)

    def named(self) -> dict[str, Any]:
        """The fields this basis names (for a refusal's details)."""
        return {k: v for k, v in (("weight_kg", self.weight_kg),
                                  ("declared_value_minor", self.declared_value_minor))
                if v is not None}


@dataclass(frozen=True)
class BasisChange:
    """Who changed the compensation basis, when, from what to what, and why."""

    at: str
    by: str
    role: str
    old: Basis
    new: Basis
    reason: str | None = None


@dataclass
class ClaimEventInput:
    """One event posted to a claim (update `ClaimWorkflow.apply`; the update id is event_id).

    `actor_role` is the role of the caller's key: the server, not the body, says who may
    override the compensation standard. `data` per type: customer_contacted {channel, note};
    document_added {kind, sha256, filename, content_type, size}; liability_decided
    {liability, note}; compensation_set {amount_minor, currency, weight_kg?,
    declared_value_minor?, override?: {reason}, note?}; payout_issued {voucher, note?};
    withdrawn {reason}; note {text}; basis_set {weight_kg?, declared_value_minor?, reason}.
    A basis in compensation_set other than the recorded one is a change: supervisor or admin.
    """

    event_id: str
    type: ClaimEventType
    data: dict[str, Any]
    actor: str
    actor_role: str
    source: str
    body_hash: str
    occurred_at: datetime | None = None
    request_id: str | None = None  # the API request that sent it (see EventInput)


@dataclass
class ClaimEventResult:
    event_id: str
    step: ClaimStep
    state: ClaimState
    body_hash: str | None = None  # echoed from the input: tells racing requests apart
    request_id: str | None = None


@dataclass
class ClaimDocument:
    kind: DocumentKind
    sha256: str
    added_at: datetime
    added_by: str
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None


@dataclass
class ClaimBreach:
    """A step not done by its deadline; its escalation is cleared when the step is done."""

    step: ClaimStep
    due_at: datetime
    detected_at: datetime
    escalation_id: str
    cleared_at: datetime | None = None


@dataclass
class ClaimStatus:
    """The whole state of one claim, as its workflow holds it and its query returns it.

    `step` is the last step done; `awaiting` the next one, due at `due_at`. `deadlines` holds
    each step's due time as it was set, `step_times` when each step was done.
    """

    claim_id: str
    order_id: str
    customer: Customer
    cause: ClaimCause
    origin: str
    description: str
    opened_at: datetime
    opened_by: str
    state: ClaimState = ClaimState.OPEN
    step: ClaimStep = ClaimStep.OPENED
    awaiting: ClaimStep | None = None
    due_at: datetime | None = None
    step_times: dict[str, datetime] = field(default_factory=dict)
    deadlines: dict[str, datetime] = field(default_factory=dict)
    liability: Liability | None = None
    amount_minor: int | None = None
    currency: str | None = None
    cap_minor: int | None = None
    cap_basis: str | None = None  # weight | declared_value | not_liable
    weight_kg: float | None = None
    declared_value_minor: int | None = None
    override_reason: str | None = None
    override_by: str | None = None
    voucher: str | None = None
    outcome: ClaimOutcome | None = None
    closed_at: datetime | None = None
    documents: list[ClaimDocument] = field(default_factory=list)
    breaches: list[ClaimBreach] = field(default_factory=list)
    order_stage: Stage | None = None
    desk: list[str] = field(default_factory=list)  # teams told of the claim (ladder level 1)
    seq: int = 0
    # Each change of the compensation basis.
    basis_changes: list[BasisChange] = field(default_factory=list)


@dataclass
class ClaimTimelineEntry:
    seq: int
    event_id: str
    type: str
    at: datetime  # when Waybill recorded it
    occurred_at: datetime  # when it happened, as the caller said (else = at)
    actor: str
    source: str
    data: dict[str, Any]
    body_hash: str | None = None


@dataclass
class ClaimProjection:
    """One write of the claim's read model: new timeline entries and the state after them."""

    status: ClaimStatus
    entries: list[ClaimTimelineEntry]
