"""Inputs and results of the scheduled report workflows and their activities (standard library
only, safe to import in workflows).

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class DailyKpiSnapshotInput:
    """`day` (YYYY-MM-DD, business zone) defaults to the day before the schedule fired."""

    day: str | None = None
    as_of: datetime | None = None  # default: when the workflow runs


@dataclass
class FollowUpMonthlyReportInput:
    """`month` (YYYY-MM, business zone) defaults to the month before the schedule fired."""

    month: str | None = None
    as_of: datetime | None = None  # default: when the workflow runs


@dataclass
class PreviousPeriodInput:
    """The business-zone day ("day") or month ("month") before `now`."""

    unit: str
    now: datetime


@dataclass
class StoreDailyKpisInput:
    day: str
    as_of: datetime


@dataclass
class StoreFollowUpReportInput:
    month: str
    as_of: datetime


@dataclass
class SnapshotResult:
    """What a run found: `created` False means the period's snapshot was stored before and
    its first figures were kept."""

    kind: str
    period_key: str
    created: bool
    as_of: datetime
    late_changes: list[dict[str, Any]] = field(default_factory=list)  # figure, reported, now
    outbox_ids: list[str] = field(default_factory=list)
    delivered: list[str] = field(default_factory=list)
    # The same changes as a reader counts them: a rate or a score summary once (kpis.late).
    late_figures: list[dict[str, Any]] = field(default_factory=list)
