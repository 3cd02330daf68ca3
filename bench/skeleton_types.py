"""Payloads of the skeleton workflow (bench/skeleton.py): one dataclass per input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class SkeletonOrderInput:
    order_id: str
    received_at: datetime
    survey_after_seconds: float


@dataclass
class SkeletonEventInput:
    event_id: str
    type: str
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class SkeletonEntry:
    event_id: str
    type: str
    occurred_at: datetime


@dataclass
class SkeletonProjection:
    """What the activity writes: the order's row (newer `seq` wins) and new timeline rows."""

    order_id: str
    stage: str
    survey: str | None
    seq: int
    entries: list[SkeletonEntry]


@dataclass
class SkeletonView:
    stage: str
    survey: str | None
