"""Payload types shared by the order workflow, its activities and its callers.

These are workflow history: fields may be added (with defaults) but never renamed or removed.
They are kept apart from the HTTP schemas, which may change with API versions.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE
from workflows.order.records import (
    DecisionRecord,
    Delivery,
    ExceptionRecord,
    FollowUpCall,
    PauseRecord,
    Receipt,
    Shipment,
)
from workflows.policy import SlaPolicy


class Stage(StrEnum):
    RECEIVED = "received"
    CONFIRMED = "confirmed"
    PICKED = "picked"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    RECEIPT_ARCHIVED = "receipt_archived"
    FOLLOWED_UP = "followed_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# The stage groups every rule is written in terms of (allowed events, deadlines, console
# actions): a rule that depends on where the goods are names one of these, never lists stages.
BEFORE_SHIPMENT = frozenset({Stage.RECEIVED, Stage.CONFIRMED, Stage.PICKED})  # at the warehouse
MOVING = frozenset({Stage.SHIPPED, Stage.IN_TRANSIT})  # with the carrier
AFTER_DELIVERY = frozenset({Stage.DELIVERED, Stage.RECEIPT_ARCHIVED, Stage.FOLLOWED_UP})
TERMINAL_STAGES = frozenset({Stage.CLOSED, Stage.CANCELLED})  # the workflow has ended


class EventType(StrEnum):
    CONFIRMED = "confirmed"
    PICKED = "picked"
    SHIPPED = "shipped"
    TRACKING_SCAN = "tracking_scan"
    DELIVERED = "delivered"
    RECEIPT_RETURNED = "receipt_returned"
    SURVEY_RESPONSE = "survey_response"
    CANCELLED = "cancelled"
    NOTE = "note"
    PROMISE_CHANGED = "promise_changed"
    STOCK_SHORTAGE = "stock_shortage"
    SHORTAGE_DECISION = "shortage_decision"
    DELIVERY_EXCEPTION = "delivery_exception"
    FOLLOW_UP_CALL = "follow_up_call"


class SystemEventType(StrEnum):
    """Timeline entries written by Waybill itself rather than posted by a caller."""

    ORDER_CREATED = "order_created"
    SLA_BREACH = "sla_breach"
    BREACH_CLEARED = "breach_cleared"
    IN_TRANSIT = "in_transit"
    SURVEY_DUE = "survey_due"
    FOLLOW_UP_UNSUCCESSFUL = "follow_up_unsuccessful"
    CLOSED = "closed"
    SURVEY_REMINDER = "survey_reminder"
    CALL_RETRY_DUE = "call_retry_due"
    DECISION_REQUIRED = "decision_required"  # a shortage or short pick awaits the customer
    DEADLINE_PAUSED = "deadline_paused"  # a customer-caused wait (workflows/order/pauses.py)
    DEADLINE_RESUMED = "deadline_resumed"
    CLAIM_OPENED = "claim_opened"
    CLAIM_CLOSED = "claim_closed"
    COMPLAINT_OPENED = "complaint_opened"
    RECEIPT_VERSION = "receipt_version"  # a later version of an archived receipt


class BreachKind(StrEnum):
    CONFIRM_LATE = "confirm_late"
    PICK_LATE = "pick_late"
    SHIP_LATE = "ship_late"
    SCAN_GAP = "scan_gap"
    LATE_RISK = "late_risk"
    DELIVERY_LATE = "delivery_late"
    RECEIPT_LATE = "receipt_late"
    DECISION_LATE = "decision_late"  # the customer's shortage decision is overdue
    CLAIM_STEP_LATE = "claim_step_late"
    COMPLAINT_STEP_LATE = "complaint_step_late"


class Tier(StrEnum):
    STANDARD = "standard"
    KEY_ACCOUNT = "key_account"


class FollowUpStatus(StrEnum):
    PENDING = "pending"  # delivered, survey not yet due
    DUE = "due"  # invitation sent, answer awaited
    ANSWERED = "answered"
    UNSUCCESSFUL = "unsuccessful"  # window expired with no answer


@dataclass
class Customer:
    id: str
    name: str
    tier: Tier
    phone: str | None = None
    email: str | None = None
    language: str = "zh-CN"
    key_account_manager: str | None = None


@dataclass
class Line:
    sku: str
    qty: int


@dataclass
class OrderInput:
    order_id: str
    customer: Customer
    lines: list[Line]
    destination: dict[str, Any]
    promised_ship_by: datetime
    promised_delivery_by: datetime
    policy: SlaPolicy
    received_at: datetime
    actor: str
    source: str
    # When Waybill recorded the order; later than received_at for an order intake posts after
    # the fact. None in histories from before it existed, where both were the same instant.
    recorded_at: datetime | None = None
    # The claims' compensation basis given at intake (in the claim policy's currency, and kg);
    # None in older histories and when intake did not say: then a supervisor records one.
    declared_value_minor: int | None = None
    weight_kg: float | None = None
    # Set when a run continued as new (workflows/order/resume.py): the order picks up from it
    # instead of starting at `received`. None in every first run.
    resume: OrderResume | None = None
    # History bytes past which a run continues as new (config order_history_limit_bytes);
    # None: workflows/case.py HISTORY_LIMIT_BYTES.
    history_limit_bytes: int | None = None
    # The API stored the order's row with its opening state and first timeline entry before
    # starting it (rules.opening_state, created_entry): the first projection sends only what
    # differs from them. False in older inputs, which send everything, as they always did.
    stored: bool = False


@dataclass
class EventInput:
    event_id: str
    type: EventType
    occurred_at: datetime
    data: dict[str, Any]
    actor: str
    source: str
    body_hash: str
    # Which API request sent it (not part of the body): Temporal answers a concurrent update
    # under the same id with the first one's outcome, and this tells the others it was not
    # theirs (a duplicate, or event_id_reused when their body differs).
    request_id: str | None = None
    # How far before the order's received time the event may be dated (the API's
    # event_clock_skew_seconds); None in inputs from before the check, which skip it.
    clock_skew_seconds: float | None = None


@dataclass
class EventResult:
    stage: Stage
    # The start (rejections.HASH_CHARS) of the hash of the body applied under the update's
    # event id, and the request that applied it (api/events/idempotency.py): enough to tell two
    # bodies apart. Older results echo the whole hash, and the event id, which no one reads.
    body_hash: str | None = None
    request_id: str | None = None
    event_id: str = ""


@dataclass
class LineState:
    sku: str
    ordered: int
    picked: int | None = None
    shipped: int | None = None
    delivered: int | None = None
    agreed: int | None = None  # set by a customer's partial decision; in-full is judged on it

    @property
    def due(self) -> int:
        """What the customer is owed: the agreed quantity, else the ordered one."""
        return self.ordered if self.agreed is None else self.agreed


@dataclass
class Scan:
    event_id: str
    occurred_at: datetime
    location: str
    status: str
    eta: datetime | None = None
    # When Waybill learned of it; the scan gap never counts from a time still in the future.
    seen_at: datetime | None = None


@dataclass
class Breach:
    id: str
    kind: BreachKind
    stage: Stage
    due_at: datetime
    detected_at: datetime
    cleared_at: datetime | None = None
    cleared_by: str | None = None
    escalation_id: str | None = None


@dataclass
class Survey:
    status: FollowUpStatus
    due_at: datetime
    expires_at: datetime
    scores: dict[str, int] | None = None
    comment: str | None = None
    answered_at: datetime | None = None
    remind_at: datetime | None = None  # halfway through the window; None for old orders
    reminded_at: datetime | None = None
    goods_ok: bool | None = None
    suggestions: str | None = None
    channel: str | None = None  # web | phone | api
    outcome: str | None = None  # answered | refused | expired
    calls: list[FollowUpCall] = field(default_factory=list)
    next_call_at: datetime | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class PendingDecision:
    """Stock is short: the customer must choose partial, backorder or cancel by `due_at`."""

    kind: str  # stock_shortage | short_pick
    reported_at: datetime
    due_at: datetime
    event_id: str
    available: dict[str, int] = field(default_factory=dict)


@dataclass
class ClaimRef:
    claim_id: str
    cause: str
    opened_at: datetime
    origin: str
    closed_at: datetime | None = None
    outcome: str | None = None


@dataclass
class Deadline:
    kind: str
    due_at: datetime


@dataclass
class TimelineEntry:
    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    # Waybill's own entries by default: a default is left out of the history's payloads.
    actor: str = SYSTEM_ACTOR
    source: str = SYSTEM_SOURCE
    data: dict[str, Any] = field(default_factory=dict)
    body_hash: str | None = None


@dataclass
class OrderState:
    """The whole current state of one order, as the workflow holds it and the query returns it."""

    order_id: str
    customer: Customer
    lines: list[LineState]
    destination: dict[str, Any]
    promised_ship_by: datetime
    promised_delivery_by: datetime
    policy: SlaPolicy
    stage: Stage
    stage_times: dict[str, datetime]
    shipment: Shipment | None = None
    scans: list[Scan] = field(default_factory=list)
    delivery: Delivery | None = None
    receipt: Receipt | None = None
    survey: Survey | None = None
    breaches: list[Breach] = field(default_factory=list)
    in_full: bool | None = None
    on_time: bool | None = None
    cancel_reason: str | None = None
    next_deadline: Deadline | None = None
    seq: int = 0
    decision: PendingDecision | None = None
    decisions: list[DecisionRecord] = field(default_factory=list)  # the customer's choices
    repick_since: datetime | None = None  # backorder after a short pick: to be picked again
    exceptions: list[ExceptionRecord] = field(default_factory=list)  # delivery exceptions
    claims: list[ClaimRef] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    lost: bool = False
    heard_at: datetime | None = None  # when the latest order or event sent late reached us
    declared_value_minor: int | None = None  # the claims' compensation basis (OrderInput)
    weight_kg: float | None = None
    # Customer-caused waits that paused the delivery deadline (workflows/order/pauses.py).
    pauses: list[PauseRecord] = field(default_factory=list)


@dataclass
class OrderResume:
    """What a run that continued as new picks up from the last (workflows/order/resume.py).

    `state` holds only the scans the deadline rules still read (the read model has the whole
    feed); `event_hashes` maps every event id applied so far to the start of its body hash,
    enough to tell a duplicate from another body under the same id.
    """

    state: OrderState
    event_hashes: dict[str, str]
    last_event: str  # the type of the latest event: a breach it clears is cleared by it
    shown_stage: str | None  # the stage the search attribute shows


@dataclass
class ProjectionInput:
    """One write of the order's read model: new timeline entries and the state after them."""

    state: OrderState
    entries: list[TimelineEntry]


# The OrderState fields a ProjectionChange sends by value when they change (scans go one by one
# and `seq` is the change's own number); a MERGED one only its changed keys (never removed).
TRACKED = tuple(f.name for f in fields(OrderState) if f.name not in ("scans", "seq"))
MERGED = frozenset({"stage_times"})


@dataclass
class ProjectionChange:
    """One write of the order's read model, lean (workflows/order/changes.py): what changed.

    `changed` holds the OrderState fields (by name, JSON as the converter writes them) whose
    value differs from the last write, all of them in a run's first (unless the API stored the
    opening state: OrderInput.stored); `stage_times` only its new keys, merged into the stored
    ones (a stage's time is set, never removed); `scans` the scans not yet
    written (they live in their own table, so no write grows with the feed). The dates are
    the deadline rules' (workflows/order/deadlines.py), worked out here because the activity
    never sees the whole scan feed.
    """

    order_id: str
    seq: int
    changed: dict[str, Any] = field(default_factory=dict)
    scans: list[Scan] = field(default_factory=list)
    entries: list[TimelineEntry] = field(default_factory=list)
    latest_eta: datetime | None = None
    receipt_due_at: datetime | None = None
