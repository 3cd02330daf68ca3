"""SLA policy payloads: what an order copies from its policy version (deadlines, ladder, calendar,
claim, complaint and follow-up terms).

These are workflow history: fields may be added (with defaults) but never renamed or removed.
The body an admin writes is checked by policies/; these dataclasses are what workflows carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LadderLevel:
    """One rung of the escalation ladder; durations are in seconds."""

    level: int
    recipients: list[str]
    ack_within: float
    resolve_within: float


@dataclass
class EscalationPolicy:
    levels: list[LadderLevel]
    repeat_every: float
    snooze_max: float
    start_level: int = 1
    key_account_start_level: int | None = None


@dataclass
class BusinessCalendar:
    """Working hours per weekday (mon..sun -> ["HH:MM-HH:MM", ...]) in a zone, minus holidays.

    `working_days`: make-up working days (调休, ISO dates), which work even on a weekend, with
    the hours of a normal working day (workflows/calendar.py says which). Empty in histories
    from before it existed, and left out of payloads when empty, so they replay unchanged.
    """

    timezone: str
    hours: dict[str, list[str]]
    holidays: list[str] = field(default_factory=list)
    working_days: list[str] = field(default_factory=list)


@dataclass
class ClaimPolicy:
    """Deadlines of each claim step (seconds from the step before) and the compensation standard.

    The cap is `cap_per_kg_minor` per kg of the goods concerned when the claim gives a weight,
    else the declared value of the affected lines; a larger amount needs a supervisor override.
    """

    contact_within: float = 4 * 3600.0
    evidence_within: float = 3 * 86400.0
    liability_within: float = 5 * 86400.0
    compensation_within: float = 3 * 86400.0
    payout_within: float = 5 * 86400.0
    currency: str = "CNY"
    cap_per_kg_minor: int = 2000


@dataclass
class ComplaintPolicy:
    """Complaint step deadlines (seconds from acceptance, except where named otherwise)."""

    route_within: float = 2 * 3600.0
    first_reply_within: float = 4 * 3600.0
    resolve_within: float = 3 * 86400.0
    satisfaction_within: float = 3 * 86400.0  # from resolution
    low_score_max: int = 2  # a survey score at or below this opens a complaint


@dataclass
class FollowUpPolicy:
    call_retries: int = 2  # further calls after a first `no_answer`
    call_retry_after: float = 4 * 3600.0


@dataclass
class SlaPolicy:
    """A copy of one SLA policy version, taken at order start; durations are in seconds."""

    name: str
    version: str
    confirm_within: float
    pick_within: float
    scan_gap: float
    receipt_within: float
    survey_after: float
    survey_window: float
    escalation: EscalationPolicy | None = None
    calendar: BusinessCalendar | None = None
    decision_within: float = 86400.0  # the customer's answer to a shortage or short pick
    claims: ClaimPolicy = field(default_factory=ClaimPolicy)
    complaints: ComplaintPolicy = field(default_factory=ComplaintPolicy)
    follow_up: FollowUpPolicy = field(default_factory=FollowUpPolicy)
    # A deadline already past when Waybill hears of the step it times (an intake catching up on
    # a backlog) breaches only this long after: what already happened is posted moments apart.
    catch_up_grace: float = 600.0
    # A customer-caused wait (consignee absent, a delay the customer asked for) always pauses
    # the delivery deadline's breach; on-time is judged against the paused deadline only when
    # this says so, else against the promise, which stands.
    pauses_excluded_from_on_time: bool = False
