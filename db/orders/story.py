"""One order's whole story: its own timeline merged with its escalations' ladder steps, its
claims' and complaints' timelines and the notifications sent about it (the outbox), in event-time
order (ties by record time). What an auditor asks: who knew, when, and what was done.

Each source is read with its own bounded query (indexed by order, then by the case's id), so a
story is a few short reads in one unit of work; the merge happens here, not in SQL, because the
sources name their times and ids differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.claims.models import ClaimEvent, ClaimRow
from db.complaints.models import ComplaintEvent, ComplaintRow
from db.escalations.models import EscalationEvent, EscalationRow
from db.notifications.models import InboxItem, OutboxRow
from db.orders.models import OrderEvent
from db.personal import queries as personal
from db.personal.fields import CLAIM_EVENTS, COMPLAINT_EVENTS, ESCALATION_EVENTS, ORDER_EVENTS

# At most this many items per order and kind are read; a story longer than `limit` says it was
# cut (`Story.truncated`), so a reader never takes a partial story for the whole one.
STORY_LIMIT = 2000
# Who wrote a notification row: Waybill itself, through its outbox (the name its workflows
# write their own entries under, workflows/ids.py SYSTEM_ACTOR, which db/ may not import).
OUTBOX_ACTOR = "waybill"
OUTBOX_SOURCE = "outbox"
ESCALATION_SOURCE = "escalation"


class StoryKind(StrEnum):
    """Where an item of the story comes from; the API's and console's `kind` filter."""

    ORDER = "order"
    ESCALATION = "escalation"
    CLAIM = "claim"
    COMPLAINT = "complaint"
    NOTIFICATION = "notification"


ALL_KINDS = frozenset(StoryKind)
# Among items with the same event and record time: the order's own entry first, then what it
# caused (an escalation step, a claim's or complaint's entry), then who was told.
_KIND_RANK = {kind: rank for rank, kind in enumerate(StoryKind)}
# What a notification item says about its outbox row: never the message body, the payload or
# the receiver's answer text (last_error may quote a receiver's body).
OUTBOX_FIELDS = ("event_type", "audience", "channel", "recipient", "status", "attempts",
                 "last_http_status", "last_attempt_at", "delivered_at", "escalation_id",
                 "subject")


@dataclass(frozen=True)
class StoryItem:
    """One line of the story. `subject_id` names the escalation, claim, complaint or outbox row
    it belongs to (None for the order's own entries); `event_id` is unique within the story."""

    kind: StoryKind
    type: str
    event_id: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    source: str
    data: dict[str, Any]
    subject_id: str | None = None
    seq: int = 0  # order within its source, for a stable sort among equal times


@dataclass
class Story:
    order_id: str
    items: list[StoryItem] = field(default_factory=list)
    truncated: bool = False


def _order_items(session: Session, order_id: str, limit: int) -> list[StoryItem]:
    rows = personal.reveal(session, ORDER_EVENTS, list(session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order_id)
        .order_by(OrderEvent.occurred_at, OrderEvent.recorded_at, OrderEvent.id).limit(limit))))
    return [StoryItem(StoryKind.ORDER, e.type, e.event_id, e.occurred_at, e.recorded_at, e.actor,
                      e.source, dict(e.data or {}), None, e.id) for e in rows]


def _escalation_items(session: Session, order_id: str, limit: int) -> list[StoryItem]:
    rows = session.execute(
        select(EscalationEvent, EscalationRow.kind, EscalationRow.subject)
        .join(EscalationRow, EscalationRow.id == EscalationEvent.escalation_id)
        .where(EscalationRow.order_id == order_id)
        .order_by(EscalationEvent.at, EscalationEvent.escalation_id, EscalationEvent.seq)
        .limit(limit)).all()
    personal.reveal(session, ESCALATION_EVENTS, [step for step, _, _ in rows])
    return [escalation_item(step, kind, subject) for step, kind, subject in rows]


def escalation_item(step: EscalationEvent, kind: str, subject: str) -> StoryItem:
    """One ladder step as a story item (also the escalation page's ladder, in sentences)."""
    # A step is recorded as it happens (the ladder's own clock): event = record time.
    data = {**(step.detail or {}), "level": step.level, "escalation_kind": kind}
    if subject:
        data["escalation_subject"] = subject
    if step.comment:
        data["comment"] = step.comment
    return StoryItem(StoryKind.ESCALATION, step.action, f"{step.escalation_id}#{step.seq}",
                     step.at, step.at, step.actor, ESCALATION_SOURCE, data, step.escalation_id,
                     step.seq)


def _claim_items(session: Session, order_id: str, limit: int) -> list[StoryItem]:
    rows = personal.reveal(session, CLAIM_EVENTS, list(session.scalars(
        select(ClaimEvent).join(ClaimRow, ClaimRow.id == ClaimEvent.claim_id)
        .where(ClaimRow.order_id == order_id)
        .order_by(ClaimEvent.occurred_at, ClaimEvent.at, ClaimEvent.claim_id, ClaimEvent.seq)
        .limit(limit))))
    return [StoryItem(StoryKind.CLAIM, e.type, f"{e.claim_id}#{e.event_id}", e.occurred_at,
                      e.at, e.actor, e.source, dict(e.data or {}), e.claim_id, e.seq)
            for e in rows]


def _complaint_items(session: Session, order_id: str, limit: int) -> list[StoryItem]:
    rows = personal.reveal(session, COMPLAINT_EVENTS, list(session.scalars(
        select(ComplaintEvent).join(ComplaintRow, ComplaintRow.id == ComplaintEvent.complaint_id)
        .where(ComplaintRow.order_id == order_id)
        .order_by(ComplaintEvent.occurred_at, ComplaintEvent.recorded_at, ComplaintEvent.id)
        .limit(limit))))
    return [StoryItem(StoryKind.COMPLAINT, e.type, f"{e.complaint_id}#{e.event_id}",
                      e.occurred_at, e.recorded_at, e.actor, e.source, dict(e.data or {}),
                      e.complaint_id, e.id) for e in rows]


def _notification_items(session: Session, order_id: str, limit: int) -> list[StoryItem]:
    # An in-app notice also says who of the team read it, and when: who knew.
    rows = session.execute(
        select(OutboxRow, InboxItem.read_at, InboxItem.read_by)
        .outerjoin(InboxItem, InboxItem.outbox_id == OutboxRow.id)
        .where(OutboxRow.order_id == order_id)
        .order_by(OutboxRow.created_at, OutboxRow.id).limit(limit))
    items = []
    for row, read_at, read_by in rows:
        data = {name: getattr(row, name) for name in OUTBOX_FIELDS}
        for name in ("last_attempt_at", "delivered_at"):
            data[name] = data[name].isoformat() if data[name] else None
        if read_at is not None:
            data["read_at"], data["read_by"] = read_at.isoformat(), read_by
        # Written when the causing event was: that is when Waybill decided to tell someone.
        items.append(StoryItem(StoryKind.NOTIFICATION, row.event_type, f"outbox:{row.id}",
                               row.created_at, row.created_at, OUTBOX_ACTOR, OUTBOX_SOURCE,
                               data, row.id))
    return items


_READERS = {
    StoryKind.ORDER: _order_items,
    StoryKind.ESCALATION: _escalation_items,
    StoryKind.CLAIM: _claim_items,
    StoryKind.COMPLAINT: _complaint_items,
    StoryKind.NOTIFICATION: _notification_items,
}


def sort_key(item: StoryItem) -> tuple[datetime, datetime, int, str, int]:
    """Event time, then record time, then the order's own entry before what it caused."""
    return (item.occurred_at, item.recorded_at, _KIND_RANK[item.kind], item.subject_id or "",
            item.seq)


def merge(items: Iterable[StoryItem], limit: int) -> tuple[list[StoryItem], bool]:
    """The items in story order, at most `limit` of them, and whether any were left out."""
    ordered = sorted(items, key=sort_key)
    return ordered[:limit], len(ordered) > limit


def story(session: Session, order_id: str, kinds: Iterable[str] = ALL_KINDS,
          limit: int = STORY_LIMIT) -> Story:
    """The order's story, of the kinds asked for (all by default), at most `limit` items.

    Raises:
        ValueError: a kind that is not a StoryKind (the API checks first and answers 422).
    """
    wanted = {StoryKind(k) for k in kinds}
    items: list[StoryItem] = []
    cut = False
    for kind in StoryKind:
        if kind in wanted:
            read = _READERS[kind](session, order_id, limit + 1)
            cut = cut or len(read) > limit
            items += read
    merged, more = merge(items, limit)
    return Story(order_id=order_id, items=merged, truncated=cut or more)
