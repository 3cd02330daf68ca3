"""A complaint event's `data`, typed: one frozen dataclass per ComplaintEventType, parsed once
where the event enters the workflow (its validator, and the handler that applies it).

The wire format stays `ComplaintEventInput.data: dict` (committed histories hold it); the API's
bodies validate it first. Parsing raises KeyError, ValueError or TypeError on a malformed event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, assert_never

from workflows.complaint.types import ComplaintEventType


@dataclass(frozen=True)
class RoutedData:
    department: str | None  # checked against Department by the validator
    category: str | None = None  # routing may re-categorize the complaint


@dataclass(frozen=True)
class FirstReplyData:
    text: str
    plan: str
    promised_by: datetime


@dataclass(frozen=True)
class ResolvedData:
    text: str


@dataclass(frozen=True)
class SatisfactionData:
    score: int  # 1-5
    comment: str | None = None


@dataclass(frozen=True)
class ComplaintNoteData:
    text: str | None = None


ComplaintEventData = (RoutedData | FirstReplyData | ResolvedData | SatisfactionData
                      | ComplaintNoteData)


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def parse(type_: ComplaintEventType, d: Mapping[str, Any]) -> ComplaintEventData:
    """`d` (an event's data) of an event of `type_`, typed."""
    match type_:
        case ComplaintEventType.ROUTED:
            return RoutedData(department=d.get("department"), category=d.get("category"))
        case ComplaintEventType.FIRST_REPLY:
            return FirstReplyData(text=d["text"], plan=d["plan"],
                                  promised_by=_instant(d["promised_by"]))
        case ComplaintEventType.RESOLVED:
            return ResolvedData(text=d["text"])
        case ComplaintEventType.SATISFACTION:
            return SatisfactionData(score=int(d["score"]), comment=d.get("comment"))
        case ComplaintEventType.NOTE:
            return ComplaintNoteData(text=d.get("text"))
        case _:
            assert_never(type_)
