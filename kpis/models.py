"""The shapes of KPI figures and reports: plain pydantic models whose JSON a snapshot stores.

Every rate carries its numerator and denominator and every duration its count, so a reader can
check a figure and two figures can be added up by hand. Durations are whole seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The keys figures can be grouped by, and what each means.
GROUP_KEYS = ("customer", "tier", "carrier", "sla_policy")

# Stage transitions measured by the order cycle time, in lifecycle order.
TRANSITIONS: tuple[tuple[str, str], ...] = (
    ("received", "confirmed"),
    ("confirmed", "picked"),
    ("picked", "shipped"),
    ("shipped", "delivered"),
    ("delivered", "receipt_archived"),
    ("delivered", "followed_up"),
    ("received", "delivered"),
)
TRANSITION_NAMES = tuple(f"{a}_to_{b}" for a, b in TRANSITIONS)
SCORES = (1, 2, 3, 4, 5)  # the survey's and the complaint satisfaction's scale


def rate_fields(numerator: int, denominator: int) -> dict[str, Any]:
    """A Rate's fields, for building many models in one validation (kpis.compute)."""
    return {"numerator": numerator, "denominator": denominator,
            "rate": round(numerator / denominator, 6) if denominator else None}


def score_fields(counts: dict[int, int]) -> dict[str, Any]:
    """The Scores fields of how many gave each score."""
    dist = {str(s): 0 for s in SCORES}
    for score, n in counts.items():
        dist[str(score)] = dist.get(str(score), 0) + n
    count = sum(counts.values())
    total = sum(score * n for score, n in counts.items())
    return {"count": count, "sum": total, "mean": round(total / count, 6) if count else None,
            "distribution": dist}


class Rate(BaseModel):
    numerator: int
    denominator: int
    rate: float | None = Field(description="numerator / denominator, 6 decimals; null when "
                                           "the denominator is 0")

    @classmethod
    def of(cls, numerator: int, denominator: int) -> Rate:
        # Validated: pydantic-core builds it faster than model_construct's Python loop does.
        return cls(**rate_fields(numerator, denominator))


class Durations(BaseModel):
    """Nearest-rank percentiles: pN is the ceil(N/100 * count)-th smallest value."""

    # Frozen: one empty instance is shared by every empty figure of a report.
    model_config = ConfigDict(frozen=True)

    count: int = 0
    p50: int | None = None
    p90: int | None = None
    max: int | None = None


class Scores(BaseModel):
    """Answers on the 1-5 scale: how many, their sum, the mean and how many gave each score."""

    count: int = 0
    sum: int = 0
    mean: float | None = None
    distribution: dict[str, int] = Field(default_factory=lambda: {str(s): 0 for s in SCORES})

    @classmethod
    def of(cls, counts: dict[int, int]) -> Scores:
        return cls(**score_fields(counts))


class Amount(BaseModel):
    currency: str
    amount_minor: int


class ClaimSplit(BaseModel):
    count: int = 0
    amounts: list[Amount] = Field(default_factory=list)


class Escalations(BaseModel):
    opened: int = 0
    by_level: dict[str, int] = Field(default_factory=dict,
                                     description="by the highest level reached")
    by_stage: dict[str, int] = Field(default_factory=dict)
    by_kind: dict[str, int] = Field(default_factory=dict)
    time_to_acknowledge: Durations = Field(default_factory=Durations)
    time_to_resolve: Durations = Field(default_factory=Durations)


class Complaints(BaseModel):
    opened: int = 0
    time_to_first_reply: Durations = Field(default_factory=Durations)
    time_to_resolution: Durations = Field(default_factory=Durations)
    satisfaction: Scores = Field(default_factory=Scores)


class Claims(BaseModel):
    opened: int = 0
    amounts: list[Amount] = Field(default_factory=list,
                                  description="compensation set, per currency")
    by_liability: dict[str, ClaimSplit] = Field(
        default_factory=dict, description="'undecided' while liability is open")
    by_cause: dict[str, ClaimSplit] = Field(default_factory=dict)


def _empty_cycle_times() -> dict[str, Durations]:
    return {name: Durations() for name in TRANSITION_NAMES}


class KpiFigures(BaseModel):
    otif: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    on_time: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    in_full: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    cycle_times: dict[str, Durations] = Field(default_factory=_empty_cycle_times)
    receipt_return: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    receipt_cycle: Durations = Field(default_factory=Durations)
    follow_up: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    successful_follow_up: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    satisfaction: dict[str, Scores] = Field(default_factory=dict)
    escalations: Escalations = Field(default_factory=Escalations)
    complaints: Complaints = Field(default_factory=Complaints)
    claims: Claims = Field(default_factory=Claims)


class Period(BaseModel):
    """[from, to) in UTC; figures count only what fell in it and before `as_of`."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    as_of: datetime
    timezone: str = Field(description="the business time zone dates and months are read in")


class KpiGroup(BaseModel):
    key: dict[str, str | None]
    figures: KpiFigures


class KpiReport(BaseModel):
    period: Period
    group_by: list[str]
    total: KpiFigures
    groups: list[KpiGroup]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Count(BaseModel):
    """One recurring item of the follow-ups: a problem code or a suggestion's text."""

    label: str
    count: int


class FollowUpFigures(BaseModel):
    due: int = 0
    attempted: int = 0
    answered: int = 0
    follow_up_rate: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    successful_follow_up_rate: Rate = Field(default_factory=lambda: Rate.of(0, 0))
    outcomes: dict[str, int] = Field(default_factory=dict,
                                     description="answered, refused, expired; open = pending")
    overall_satisfaction: Scores = Field(default_factory=Scores)
    satisfaction: dict[str, Scores] = Field(default_factory=dict)
    problems: list[Count] = Field(default_factory=list, description="most frequent first")
    suggestions: list[Count] = Field(default_factory=list, description="most frequent first")


class FollowUpGroup(BaseModel):
    key: str
    figures: FollowUpFigures


class FollowUpReport(BaseModel):
    """回访月报: the follow-ups that fell due in one month of the business time zone."""

    month: str
    period: Period
    total: FollowUpFigures
    by_customer: list[FollowUpGroup]
    by_tier: list[FollowUpGroup]

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)
