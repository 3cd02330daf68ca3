"""Payload types of the escalation ladder: its input, steps, status, the operators' actions.

These are workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from workflows.order.types import BreachKind, Stage, Tier
from workflows.policy import EscalationPolicy


class EscalationState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class EscalationAction(StrEnum):
    OPENED = "opened"
    NOTIFIED = "notified"
    CLIMBED = "climbed"
    RENOTIFIED = "renotified"
    ACKNOWLEDGED = "acknowledged"
    REASSIGNED = "reassigned"
    SNOOZED = "snoozed"
    SNOOZE_ENDED = "snooze_ended"
    RESOLVED = "resolved"
    # Resolved by an operator while its step was still not done: the reason is on record and
    # the level's resolve clock keeps running; if the step is still not done when it ends,
    # the escalation re-opens.
    WAIVED = "waived"
    REOPENED = "reopened"


@dataclass
class EscalationInput:
    escalation_id: str
    order_id: str
    breach_id: str
    kind: BreachKind
    stage: Stage | None  # the order's stage; None for a complaint about no particular order
    due_at: datetime
    detected_at: datetime
    customer_id: str
    customer_tier: Tier
    key_account_manager: str | None
    policy: EscalationPolicy
    customer_name: str = ""
    subject: str = ""  # what breached when not the order itself: "claim:ID", "complaint:ID"


@dataclass
class EscalationStep:
    seq: int
    at: datetime
    action: EscalationAction
    level: int
    actor: str
    comment: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class EscalationStatus:
    """The whole state of one escalation, as its workflow holds it and its query returns it."""

    escalation_id: str
    order_id: str
    breach_id: str
    kind: BreachKind
    stage: Stage | None
    customer_id: str
    customer_tier: Tier
    due_at: datetime
    opened_at: datetime
    level: int
    level_since: datetime
    recipients: list[str]
    state: EscalationState = EscalationState.OPEN
    assignee: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_code: str | None = None
    resolution: str | None = None
    next_step_at: datetime | None = None
    steps: list[EscalationStep] = field(default_factory=list)
    seq: int = 0
    customer_name: str = ""
    subject: str = ""
    # Set while a waived escalation waits for its step: when it re-opens unless the step is
    # done first (the subject's workflow then clears it for good).
    reopens_at: datetime | None = None
    waiver_reason: str | None = None


@dataclass
class AcknowledgeInput:
    actor: str
    comment: str | None = None


@dataclass
class ResolveInput:
    actor: str
    code: str
    text: str
    comment: str | None = None
    # Resolving while the step behind the escalation is still not done needs an explicit
    # waiver and its reason (otherwise the validator refuses: condition_still_holds).
    waive: bool = False
    reason: str | None = None


@dataclass
class ReassignInput:
    actor: str
    assignee: str
    comment: str | None = None


@dataclass
class SnoozeInput:
    actor: str
    until: datetime
    comment: str | None = None


@dataclass
class ClearInput:
    """From the order: the condition behind the breach is gone."""

    reason: str


@dataclass
class EscalationProjection:
    status: EscalationStatus
    steps: list[EscalationStep]
