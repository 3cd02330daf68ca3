"""Payloads that open a complaint (投诉), from the API or from a low survey score.

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from workflows.order.types import Customer, Stage
from workflows.policy import SlaPolicy


@dataclass
class ComplaintInput:
    """`origin`: api or survey. `order_id` is None for a complaint about the customer's service
    in general. `survey` holds the answers that raised it (scores, goods_ok, suggestions)."""

    complaint_id: str
    customer: Customer
    order_id: str | None
    origin: str
    category: str
    description: str
    opened_at: datetime
    actor: str
    source: str
    policy: SlaPolicy
    order_stage: Stage | None = None
    survey: dict[str, Any] | None = None
    # Set when a run continued as new (workflows/case.py): the complaint goes on from it.
    resume: ComplaintResume | None = None


@dataclass
class ComplaintResume:
    """What a complaint's next run picks up: its status and the event ids it applied (with the
    start of their body hash: workflows/rejections.py `remembered`)."""

    status: ComplaintStatus
    event_hashes: dict[str, str]


class ComplaintStep(StrEnum):
    """Seed 003's steps; each names what has been done, so the next step is the one awaited."""

    ACCEPTED = "accepted"  # recorded; awaiting routing to a department
    ROUTED = "routed"  # awaiting the first reply to the customer
    REPLIED = "replied"  # the customer has a reply, a plan and a time; awaiting resolution
    RESOLVED = "resolved"  # awaiting the customer's satisfaction with the resolution
    CLOSED = "closed"


class Department(StrEnum):
    """Who can be responsible for a complaint; each is a team with an in-app inbox."""

    WAREHOUSE = "warehouse"
    TRANSPORT = "transport"
    CUSTOMER_SERVICE = "customer_service"
    SALES = "sales"
    BILLING = "billing"
    OTHER = "other"


class ComplaintCategory(StrEnum):
    """What the complaint is about, for the periodic count and its analysis.

    `low_survey_score`: raised by a low follow-up score, not yet looked at; routing may
    re-categorize it.
    """

    DELAY = "delay"
    DAMAGE = "damage"
    SHORTAGE = "shortage"
    WRONG_GOODS = "wrong_goods"
    STAFF_CONDUCT = "staff_conduct"
    COMMUNICATION = "communication"
    BILLING = "billing"
    LOW_SURVEY_SCORE = "low_survey_score"
    OTHER = "other"


class ComplaintEventType(StrEnum):
    """Events a caller posts to a complaint."""

    ROUTED = "routed"  # also re-routing, until the complaint is resolved
    FIRST_REPLY = "first_reply"  # text, plan and the promised resolution time
    RESOLVED = "resolved"
    SATISFACTION = "satisfaction"  # the customer's score (1-5) of the resolution
    NOTE = "note"


class ComplaintSystemEvent(StrEnum):
    """Timeline entries Waybill writes itself."""

    OPENED = "opened"
    STEP_LATE = "step_late"
    STEP_LATE_CLEARED = "step_late_cleared"
    SATISFACTION_REQUESTED = "satisfaction_requested"
    SATISFACTION_UNANSWERED = "satisfaction_unanswered"  # the customer's silence, not our breach
    CLOSED = "closed"


class LateStep(StrEnum):
    """The steps whose deadline is ours to keep; a missed one opens an escalation."""

    ROUTE = "route"
    FIRST_REPLY = "first_reply"
    RESOLVE = "resolve"


@dataclass
class ComplaintEventInput:
    """Update on the complaint; `event_id` is also the update id."""

    event_id: str
    type: ComplaintEventType
    occurred_at: datetime
    data: dict[str, Any]
    actor: str
    source: str
    body_hash: str
    request_id: str | None = None  # the API request that sent it (see EventInput)


@dataclass
class ComplaintEventResult:
    event_id: str
    step: ComplaintStep
    body_hash: str | None = None  # echoed from the input: tells racing requests apart
    request_id: str | None = None


@dataclass
class ComplaintBreach:
    step: LateStep
    due_at: datetime
    detected_at: datetime
    escalation_id: str
    cleared_at: datetime | None = None


@dataclass
class ComplaintEntry:
    """One timeline entry of a complaint (posted event or Waybill's own)."""

    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str
    data: dict[str, Any]
    body_hash: str | None = None


@dataclass
class ComplaintStatus:
    """The whole state of one complaint, as its workflow holds it and its query returns it.

    `deadlines`: due time per step (route, first_reply, resolve from acceptance; satisfaction
    from resolution, once resolved). `due_kind`/`due_at`: the deadline of the awaited step.
    """

    complaint_id: str
    customer: Customer
    order_id: str | None
    origin: str
    category: str
    description: str
    opened_at: datetime
    policy: SlaPolicy
    created_by: str
    created_by_role: str
    order_stage: Stage | None = None
    survey: dict[str, Any] | None = None
    step: ComplaintStep = ComplaintStep.ACCEPTED
    department: str | None = None
    routed_at: datetime | None = None
    first_reply_at: datetime | None = None
    reply: str | None = None
    plan: str | None = None
    promised_by: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    satisfaction_requested_at: datetime | None = None
    satisfaction_outcome: str | None = None  # answered | unanswered
    satisfaction_score: int | None = None
    satisfaction_comment: str | None = None
    satisfaction_at: datetime | None = None
    closed_at: datetime | None = None
    deadlines: dict[str, datetime] = field(default_factory=dict)
    due_kind: str | None = None
    due_at: datetime | None = None
    breaches: list[ComplaintBreach] = field(default_factory=list)
    seq: int = 0


@dataclass
class ComplaintProjection:
    """One write of the complaint's read model: new timeline entries and the state after them."""

    status: ComplaintStatus
    entries: list[ComplaintEntry]
