"""The SLA-policy body as an admin writes it (a YAML file or a PUT body), defined once.

These models validate a body and give its JSON Schema; `PolicyBody.to_policy` turns a valid
one into the `workflows.policy` dataclasses that orders and claims carry (those stay the
workflow payload: committed histories hold them, and workflows import no pydantic models).
Defaults of optional keys are read from those dataclasses, so they are written once there.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, fields
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from policies.calendars import NAME_PATTERN, CalendarFileError, load_calendar
from policies.durations import DURATION_PATTERN, format_duration, parse_duration
from workflows.policy import (
    BusinessCalendar,
    ClaimPolicy,
    ComplaintPolicy,
    EscalationPolicy,
    FollowUpPolicy,
    LadderLevel,
    SlaPolicy,
)

# Used when a policy names no ladder; written once, in the YAML next to the shipped policies.
DEFAULT_LADDER_FILE = Path(__file__).with_name("default_ladder.yaml")
DEFAULT_LADDER: dict[str, Any] = yaml.safe_load(DEFAULT_LADDER_FILE.read_text(encoding="utf-8"))

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A working span of one day; it may end at 24:00 (workflows/calendar.py reads that as midnight).
SPAN_PATTERN = r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$"
_SPAN = re.compile(SPAN_PATTERN)


def rule(message: str, *at: str | int) -> PydanticCustomError:
    """A refusal in the policy's own words; `at` continues the error's path below where the
    validator runs (e.g. the level whose number is wrong), as `policies.errors` reads it."""
    # The words travel in ctx, not in the template, which pydantic fills in from ctx.
    return PydanticCustomError("policy_rule", "{message}", {"message": message, "at": at})


def shown(value: Any) -> str:
    """An admin's value quoted in an error, cut short: a message stays readable."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise rule(str(exc).replace(repr(value), shown(value), 1)) from exc


def _span(value: Any) -> str:
    if not isinstance(value, str) or not _SPAN.match(value) or value[:5] >= value[6:]:
        raise rule(f"{shown(value)} is not a span like 09:00-18:00")
    return value


def _holiday(value: Any) -> str:
    # YAML reads an unquoted 2026-10-01 as a date; JSON and stored bodies hold the text.
    try:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, str):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise rule(f"{shown(value)} is not a date like 2026-10-01")


def _recipient(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise rule(f"expected a team or role name, not {shown(value)}")
    return value.strip()


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise rule(f"unknown time zone {shown(value)}") from exc
    return value


def _text(pattern: str, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, **extra})


# Seconds once validated; in the body, ISO 8601 text.
Duration = Annotated[float, PlainValidator(_duration), _text(
    DURATION_PATTERN, description="ISO 8601 duration without years or months, longer than "
    "zero, e.g. PT24H, P7D, PT2S", examples=["PT4H"])]
Span = Annotated[str, PlainValidator(_span), _text(SPAN_PATTERN, examples=["09:00-18:00"])]
Holiday = Annotated[str, PlainValidator(_holiday),
                    WithJsonSchema({"type": "string", "format": "date"})]
Recipient = Annotated[str, PlainValidator(_recipient), _text(r"\S")]
TimeZone = Annotated[StrictStr, AfterValidator(_zone)]


def default(cls: type, name: str, description: str = "") -> Any:
    """The field of an optional key, whose default is the workflow dataclass's (shown in the
    schema as an admin would write it)."""
    value = {f.name: f.default for f in fields(cls) if f.default is not MISSING}[name]
    # The dataclasses hold durations as float seconds and counts as ints.
    written = format_duration(value) if isinstance(value, float) else value
    return Field(default=value, description=description or None,
                 json_schema_extra={"default": written})


class PolicyPart(BaseModel):
    """A mapping of an admin's policy: unknown keys are refused, never dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicyLevel(PolicyPart):
    level: StrictInt = Field(description="1 for the first level, then 2, 3... in order")
    recipients: list[Recipient] = Field(min_length=1, description="teams or roles to notify")
    ack_within: Duration
    resolve_within: Duration


class PolicyLadder(PolicyPart):
    levels: list[PolicyLevel] = Field(min_length=1)
    repeat_every: Duration
    snooze_max: Duration
    start_level: StrictInt | None = Field(default=None, ge=1, description="absent: 1")
    key_account_start_level: StrictInt | None = Field(default=None, ge=1)

    @field_validator("levels")
    @classmethod
    def _numbered_in_order(cls, levels: list[PolicyLevel]) -> list[PolicyLevel]:
        for i, level in enumerate(levels):
            if level.level != i + 1:
                raise rule("levels must be numbered 1, 2, 3... in order", i, "level")
        return levels

    @model_validator(mode="after")
    def _starts_on_the_ladder(self) -> Self:
        for key in ("start_level", "key_account_start_level"):
            value = getattr(self, key)
            if value is not None and value > len(self.levels):
                raise rule(f"must be a level from 1 to {len(self.levels)}", key)
        return self

    def to_policy(self) -> EscalationPolicy:
        return EscalationPolicy(
            levels=[LadderLevel(level=lv.level, recipients=list(lv.recipients),
                                ack_within=lv.ack_within, resolve_within=lv.resolve_within)
                    for lv in self.levels],
            repeat_every=self.repeat_every, snooze_max=self.snooze_max,
            start_level=self.start_level or 1,
            key_account_start_level=self.key_account_start_level)


class PolicyHours(PolicyPart):
    """Working spans per weekday; a day left out or empty has none."""

    mon: list[Span] | None = None
    tue: list[Span] | None = None
    wed: list[Span] | None = None
    thu: list[Span] | None = None
    fri: list[Span] | None = None
    sat: list[Span] | None = None
    sun: list[Span] | None = None

    @model_validator(mode="after")
    def _some_working_time(self) -> Self:
        if not any(self.by_day().values()):
            raise rule("no working hours on any day")
        return self

    def by_day(self) -> dict[str, list[str]]:
        """The days the admin named, in week order; null becomes no hours."""
        return {day: list(getattr(self, day) or []) for day in WEEKDAYS
                if day in self.model_fields_set}


def _calendar_name(value: Any) -> str:
    try:
        load_calendar(value)
    except CalendarFileError as exc:
        raise rule(str(exc)) from exc
    return str(value)


CalendarName = Annotated[StrictStr, StringConstraints(pattern=NAME_PATTERN),
                         AfterValidator(_calendar_name)]


class PolicyCalendar(PolicyPart):
    timezone: TimeZone = Field(description="an IANA time zone, e.g. Asia/Shanghai")
    hours: PolicyHours
    holidays: list[Holiday] | None = None
    working_days: list[Holiday] | None = Field(
        default=None, description="make-up working days (调休): they work even on a weekend, "
        "with the hours of the first of mon..fri that has hours")
    holidays_from: list[CalendarName] | None = Field(
        default=None, max_length=10, description="yearly calendars (policies/calendars/) whose "
        "holidays and make-up working days this calendar takes, e.g. [cn-2026, cn-2027]; "
        "the dates written here override theirs")

    @model_validator(mode="after")
    def _day_off_or_working(self) -> Self:
        both = sorted(set(self.holidays or []) & set(self.working_days or []))
        if both:
            raise rule(f"{both[0]} is both a holiday and a working day", "working_days")
        return self

    def to_policy(self) -> BusinessCalendar:
        own_off, own_on = set(self.holidays or []), set(self.working_days or [])
        off, on = set(own_off), set(own_on)
        for name in self.holidays_from or []:
            year = load_calendar(name)
            off |= set(year.holiday_dates()) - own_on
            on |= set(year.working_day_dates()) - own_off
        # Written alone, holidays keep the admin's order (stored policies read as before).
        holidays = list(self.holidays or []) if not self.holidays_from else sorted(off)
        return BusinessCalendar(timezone=self.timezone, hours=self.hours.by_day(),
                                holidays=holidays, working_days=sorted(on))


class PolicyClaims(PolicyPart):
    """理赔 step deadlines and the compensation standard."""

    contact_within: Duration = default(ClaimPolicy, "contact_within")
    evidence_within: Duration = default(ClaimPolicy, "evidence_within")
    liability_within: Duration = default(ClaimPolicy, "liability_within")
    compensation_within: Duration = default(ClaimPolicy, "compensation_within")
    payout_within: Duration = default(ClaimPolicy, "payout_within")
    currency: Annotated[StrictStr, StringConstraints(pattern=r"^[A-Z]{3}$")] = default(
        ClaimPolicy, "currency", "ISO 4217 code: three capital letters, e.g. CNY")
    cap_per_kg_minor: Annotated[StrictInt, Field(ge=0)] = default(
        ClaimPolicy, "cap_per_kg_minor", "the compensation standard, per kg in minor units")

    def to_policy(self) -> ClaimPolicy:
        return ClaimPolicy(**self.model_dump())


class PolicyComplaints(PolicyPart):
    """投诉 step deadlines; a survey score at or below low_score_max opens a complaint."""

    route_within: Duration = default(ComplaintPolicy, "route_within")
    first_reply_within: Duration = default(ComplaintPolicy, "first_reply_within")
    resolve_within: Duration = default(ComplaintPolicy, "resolve_within")
    satisfaction_within: Duration = default(ComplaintPolicy, "satisfaction_within")
    low_score_max: Annotated[StrictInt, Field(ge=0, le=5)] = default(
        ComplaintPolicy, "low_score_max", "a survey score at or below this opens a complaint")

    def to_policy(self) -> ComplaintPolicy:
        return ComplaintPolicy(**self.model_dump())


class PolicyFollowUp(PolicyPart):
    """Phone follow-ups: further calls after a first `no_answer`, and the gap between them."""

    call_retries: Annotated[StrictInt, Field(ge=0, le=10)] = default(
        FollowUpPolicy, "call_retries", "further calls after a first no_answer")
    call_retry_after: Duration = default(FollowUpPolicy, "call_retry_after")

    def to_policy(self) -> FollowUpPolicy:
        return FollowUpPolicy(**self.model_dump())


class PolicyBody(PolicyPart):
    """One SLA policy: its stage deadlines, escalation ladder, calendar and exception steps."""

    confirm_within: Duration
    pick_within: Duration
    scan_gap: Duration
    receipt_within: Duration
    survey_after: Duration
    survey_window: Duration
    escalation: PolicyLadder = Field(default=DEFAULT_LADDER, validate_default=True,
                                   description="default: policies/default_ladder.yaml")
    calendar: PolicyCalendar | None = Field(
        default=None, description="stage deadlines then count working time only")
    decision_within: Duration = default(
        SlaPolicy, "decision_within", "the customer's answer to a shortage or short pick")
    claims: PolicyClaims = Field(default_factory=PolicyClaims)
    complaints: PolicyComplaints = Field(default_factory=PolicyComplaints)
    follow_up: PolicyFollowUp = Field(default_factory=PolicyFollowUp)
    catch_up_grace: Duration = default(
        SlaPolicy, "catch_up_grace", "how long after its arrival a deadline already past when "
        "a late order or event arrives breaches")
    pauses_excluded_from_on_time: StrictBool = default(
        SlaPolicy, "pauses_excluded_from_on_time", "a customer-caused wait always pauses the "
        "delivery deadline's breach; true: on-time is judged against the paused deadline too, "
        "false: against the promise, which stands")

    @field_validator("calendar", mode="before")
    @classmethod
    def _empty_calendar_is_none(cls, value: Any) -> Any:
        return value or None  # `calendar:` left empty in YAML: no calendar

    def to_policy(self, name: str, version: str = "") -> SlaPolicy:
        return SlaPolicy(
            name=name, version=version,
            confirm_within=self.confirm_within, pick_within=self.pick_within,
            scan_gap=self.scan_gap, receipt_within=self.receipt_within,
            survey_after=self.survey_after, survey_window=self.survey_window,
            escalation=self.escalation.to_policy(),
            calendar=self.calendar.to_policy() if self.calendar else None,
            decision_within=self.decision_within, claims=self.claims.to_policy(),
            complaints=self.complaints.to_policy(), follow_up=self.follow_up.to_policy(),
            catch_up_grace=self.catch_up_grace,
            pauses_excluded_from_on_time=self.pauses_excluded_from_on_time)


# The keys every policy must name: its stage deadlines.
DURATION_KEYS = tuple(name for name, f in PolicyBody.model_fields.items() if f.is_required())


def policy_json_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON Schema of a policy body (e.g. for /openapi.json, with
    `ref_template="#/components/schemas/{model}"` and its `$defs` moved to the components)."""
    return PolicyBody.model_json_schema(ref_template=ref_template)
