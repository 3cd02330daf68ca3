"""The triage queue's rules: what each row says will happen next, which rows are overdue, the
order by urgency, and where a step escalation's own action is done.

Pure functions of a row, its policy's ladder and the time, so the page, its poller and the
tests read the same rules (console/escalations/routes.py renders them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from db.escalations.models import EscalationRow
from workflows.escalation.condition import late_step
from workflows.escalation.workflow import KEY_ACCOUNT_MANAGER
from workflows.order.types import BreachKind, Tier
from workflows.policy import EscalationPolicy

_LADDER = TypeAdapter(EscalationPolicy)
_FAR = datetime.max.replace(tzinfo=UTC)


def ladder_of(snapshot: dict[str, Any] | None) -> EscalationPolicy | None:
    """The ladder of a policy snapshot's `escalation`; None when there is none to read."""
    if not snapshot:
        return None
    try:
        return _LADDER.validate_python(snapshot)
    except ValidationError:
        return None


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


@dataclass(frozen=True)
class Next:
    """What the ladder does next and when: a catalogue key (esc.next.*) and its values."""

    key: str
    at: datetime | None
    level: int | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueueRow:
    esc: EscalationRow
    customer_name: str
    key_account: bool
    step: str  # the late step (a code: "customer_contacted", "ship_late")
    overdue: bool
    next: Next
    action_url: str  # where the step itself is done
    waiver: str | None = None  # the reason, while a waived escalation waits for its step
    new: bool = False  # opened since the viewer loaded the queue


def next_of(esc: EscalationRow, ladder: EscalationPolicy | None) -> Next:
    at = _aware(esc.next_step_at)
    if esc.state != "open":
        return Next("esc.next.reopens" if at else "esc.next.none", at)
    if esc.snoozed_until is not None:
        return Next("esc.next.snoozed", _aware(esc.snoozed_until))
    top = len(ladder.levels) if ladder else None
    if top is not None and ladder is not None and esc.level < top:
        upper = ladder.levels[esc.level]
        names = tuple(n for n in upper.recipients if n != KEY_ACCOUNT_MANAGER
                      or esc.customer_tier == Tier.KEY_ACCOUNT.value)
        return Next("esc.next.climb", at, esc.level + 1, names)
    if top is None:
        return Next("esc.next.climb", at, esc.level + 1)
    return Next("esc.next.renotify", at, esc.level, tuple(esc.recipients or ()))


def is_overdue(esc: EscalationRow, ladder: EscalationPolicy | None, now: datetime) -> bool:
    """Open and out of time: the ladder's next step is already due (it climbs or tells again
    at once), or the row is at the top of its ladder with the level's clock run out, so
    nothing higher will take it over."""
    if esc.state != "open" or esc.snoozed_until is not None:
        return False
    at = _aware(esc.next_step_at)
    if at is not None and at <= now:
        return True
    if ladder is None or esc.level < len(ladder.levels):
        return False
    level = ladder.levels[min(esc.level, len(ladder.levels)) - 1]
    started = _aware(esc.acknowledged_at) or _aware(esc.level_since) or _aware(esc.opened_at)
    allowed = level.resolve_within if esc.acknowledged_at else level.ack_within
    return started is not None and started + timedelta(seconds=allowed) <= now


def urgency(row: QueueRow) -> tuple[Any, ...]:
    """Overdue first (longest overdue first), then the soonest next step; ties by opening
    time and id, so a row keeps its place between refreshes until its own ladder moves."""
    esc = row.esc
    at = row.next.at or _FAR
    opened = _aware(esc.opened_at) or _FAR
    return (not row.overdue, opened if row.overdue else at, opened, esc.id)


def action_url(esc: EscalationRow) -> str:
    """The page where the late step is done: the claim's or complaint's step, else the order."""
    kind, _, ident = esc.subject.partition(":")
    step = late_step(esc.kind, esc.breach_id)
    if ident and kind == "claim" and esc.kind == BreachKind.CLAIM_STEP_LATE.value:
        return f"/console/claims/{quote(ident, safe='')}#step-{step}"
    if ident and kind == "complaint":
        return f"/console/complaints/{quote(ident, safe='')}#step-{step}"
    return f"/console/orders/{quote(esc.order_id, safe='')}"


def queue_row(esc: EscalationRow, customer_name: str, ladder: EscalationPolicy | None,
              now: datetime, since: datetime | None = None,
              waiver: str | None = None) -> QueueRow:
    opened = _aware(esc.opened_at)
    return QueueRow(
        esc=esc, customer_name=customer_name,
        key_account=esc.customer_tier == Tier.KEY_ACCOUNT.value,
        step=late_step(esc.kind, esc.breach_id), overdue=is_overdue(esc, ladder, now),
        next=next_of(esc, ladder), action_url=action_url(esc),
        waiver=waiver if esc.state != "open" and esc.next_step_at is not None else None,
        new=since is not None and opened is not None and opened > since)


def levels_of(ladders: list[EscalationPolicy]) -> list[int]:
    """The levels the policies' ladders define (1..the highest), for the level filter."""
    top = max((len(lad.levels) for lad in ladders), default=0)
    return list(range(1, top + 1))
