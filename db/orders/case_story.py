"""One claim's or complaint's story: its own timeline and its escalations' ladder steps, as
items of the order's story (db/orders/story.py), so the case page tells them in the same
sentences as the order and audit pages. A complaint about no order has a story too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.claims.models import ClaimEvent
from db.complaints.models import ComplaintEvent
from db.escalations.models import EscalationEvent, EscalationRow
from db.escalations.subjects import subject_of
from db.orders.story import ESCALATION_SOURCE, STORY_LIMIT, StoryItem, StoryKind, merge

CASE_KINDS = frozenset({StoryKind.CLAIM, StoryKind.COMPLAINT})


def _own_items(session: Session, kind: StoryKind, case_id: str,
               limit: int) -> list[StoryItem]:
    if kind == StoryKind.CLAIM:
        claim_rows = session.scalars(
            select(ClaimEvent).where(ClaimEvent.claim_id == case_id)
            .order_by(ClaimEvent.occurred_at, ClaimEvent.at, ClaimEvent.seq).limit(limit))
        return [StoryItem(kind, e.type, f"{e.claim_id}#{e.event_id}", e.occurred_at, e.at,
                          e.actor, e.source, dict(e.data or {}), e.claim_id, e.seq)
                for e in claim_rows]
    complaint_rows = session.scalars(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == case_id)
        .order_by(ComplaintEvent.occurred_at, ComplaintEvent.recorded_at, ComplaintEvent.id)
        .limit(limit))
    return [StoryItem(kind, e.type, f"{e.complaint_id}#{e.event_id}", e.occurred_at,
                      e.recorded_at, e.actor, e.source, dict(e.data or {}), e.complaint_id, e.id)
            for e in complaint_rows]


def _escalation_items(session: Session, kind: StoryKind, case_id: str,
                      limit: int) -> list[StoryItem]:
    # The same item the order's story makes of a ladder step (db/orders/story.py).
    subject = subject_of(kind.value, case_id)
    rows = session.execute(
        select(EscalationEvent, EscalationRow.kind)
        .join(EscalationRow, EscalationRow.id == EscalationEvent.escalation_id)
        .where(EscalationRow.subject == subject)
        .order_by(EscalationEvent.at, EscalationEvent.escalation_id, EscalationEvent.seq)
        .limit(limit))
    items = []
    for step, esc_kind in rows:
        data = {**(step.detail or {}), "level": step.level, "escalation_kind": esc_kind,
                "escalation_subject": subject}
        if step.comment:
            data["comment"] = step.comment
        items.append(StoryItem(StoryKind.ESCALATION, step.action,
                               f"{step.escalation_id}#{step.seq}", step.at, step.at, step.actor,
                               ESCALATION_SOURCE, data, step.escalation_id, step.seq))
    return items


def case_story(session: Session, kind: StoryKind, case_id: str,
               with_escalations: bool = True,
               limit: int = STORY_LIMIT) -> tuple[list[StoryItem], bool]:
    """The case's entries (and its escalations' steps) in the order's story order, at most
    `limit`, and whether any were left out."""
    if kind not in CASE_KINDS:
        raise ValueError(f"not a case kind: {kind}")
    items = _own_items(session, kind, case_id, limit + 1)
    cut = len(items) > limit
    if with_escalations:
        more = _escalation_items(session, kind, case_id, limit + 1)
        cut = cut or len(more) > limit
        items += more
    merged, over = merge(items, limit)
    return merged, cut or over
