"""An order's story (db/orders/story.py) as people read it: each item a sentence from the
message catalogues ("Supervisor Wang acknowledged escalation L2 at 14:03:27"), its full text
unescaped and uncut, its times to the second in the viewer's zone, and its whole data one click
away. The order page and the audit page both show it.

Sentence keys: `story.<kind>.<type>` for the order's, escalations', claims' and complaints'
entries (`story.<kind>.other` for a type newer than the catalogue), and for a notification
`story.notification.<channel>` naming what it was about (`story.notice.<event type>`) and how its
delivery went (`story.outcome.<status>`). tests/console/audit/test_story.py proves every type
has its sentence in both languages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from console.i18n import SYSTEM_ACTORS, Viewer, catalogue
from db.notifications.models import Channel, OutboxStatus
from db.notifications.outbox import NotificationEvent
from db.orders import story as story_repo
from db.orders.story import ALL_KINDS, StoryItem, StoryKind
from db.personal.fields import REDACTED
from db.personal.redact import EVENT_TYPE as REDACTION
from kpis.report_words import in_survey_order
from workflows.claim.types import ClaimEventType, ClaimSystemEvent
from workflows.complaint.types import ComplaintEventType, ComplaintSystemEvent
from workflows.escalation.types import EscalationAction
from workflows.order.types import EventType, SystemEventType

# Every type each kind's entries may have: each needs a sentence in every catalogue.
TYPES: dict[StoryKind, tuple[str, ...]] = {
    StoryKind.ORDER: tuple(dict.fromkeys([*EventType, *SystemEventType])),
    StoryKind.ESCALATION: tuple(EscalationAction),
    StoryKind.CLAIM: tuple(dict.fromkeys([*ClaimEventType, *ClaimSystemEvent])),
    StoryKind.COMPLAINT: tuple(dict.fromkeys([*ComplaintEventType, *ComplaintSystemEvent])),
    StoryKind.NOTIFICATION: tuple(m.value for m in NotificationEvent),
}
# A notification's sentence is per channel, and names its delivery's outcome.
CHANNELS = tuple(Channel)
OUTCOMES = tuple(OutboxStatus)
# What a sentence may name; a catalogue entry using another field is a test failure.
FIELDS = frozenset({"actor", "at", "subject", "level", "kind", "code", "from", "to",
                    "recipients", "until", "channel", "recipient", "notice", "outcome",
                    "attempts", "type", "step", "reopens",
                    "days",  # issue 17 §6: the retention period a redaction followed
                    "due"})  # issue 19 §5: where a paused deadline now falls
# The data fields that hold what people wrote (a note, a reason, a reply...): shown in full
# under the sentence, in this order.
_TEXT_FIELDS = ("text", "reason", "comment", "description", "reply", "plan", "resolution")
# Data fields that hold a code, not words (kind, type) -> (field, catalogue group): each shown
# as a fact in the viewer's words (`story.fact.<field>`), never as what someone wrote.
_CODED: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {
    ("order", "delivered"): (("condition", "order.condition"),),
    ("order", "delivery_exception"): (("reason", "order.exception_reason"),),
    ("escalation", "climbed"): (("reason", "climb_reason"),),  # workflows/escalation/workflow.py
    ("claim", "opened"): (("cause", "order.claim_cause"),),
    ("claim", "customer_contacted"): (("channel", "contact"),),
    ("complaint", "first_reply"): (("channel", "contact"),),
    ("complaint", "opened"): (("category", "order.complaint_category"),),
    ("complaint", "routed"): (("department", "complaints.department"),
                              ("category", "order.complaint_category")),
}


@dataclass(frozen=True)
class StoryRow:
    kind: str
    type: str
    event_id: str
    subject_id: str | None
    actor: str
    source: str
    occurred: str  # to the second, in the viewer's zone
    recorded: str
    sentence: str
    texts: tuple[str, ...]  # what people wrote, whole
    facts: tuple[str, ...]  # what else is known about it, in words (who read a notice, when)
    data: str  # the whole data as indented JSON, non-ASCII as itself
    by_person: bool


class _Fields(dict[str, str]):
    """A sentence's fields; one a sentence names but the item lacks reads "-", so a sentence
    never fails on an entry written before a field existed."""

    def __missing__(self, key: str) -> str:
        return "-"


def sentence_key(kind: str, type_: str, data: Mapping[str, Any], locale: str) -> str:
    words = catalogue(locale)
    if kind == StoryKind.NOTIFICATION:
        return f"story.notification.{data.get('channel')}" \
            if f"story.notification.{data.get('channel')}" in words else "story.notification.other"
    key = f"story.{kind}.{type_}"
    if type_ == REDACTION and data.get("retention_days") is None:  # an erasure request
        key = f"story.{kind}.personal_data_erased"
    return key if key in words else f"story.{kind}.other"


def _listed(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value in (None, "") else str(value)


def _people(viewer: Viewer, value: Any) -> str:
    """Recipients and assignees: a team's name in words, a person's as is (Viewer.teams)."""
    names = value if isinstance(value, list | tuple) else [value]
    return viewer.teams([str(n) for n in names if n not in (None, "")])


def fields(viewer: Viewer, item: StoryItem) -> _Fields:
    data = item.data
    out = _Fields(actor=viewer.actor(item.actor), at=viewer.instant(item.occurred_at, True),
                  subject=item.subject_id or "-", type=item.type)
    if item.kind == StoryKind.ESCALATION:
        out.update(level=_listed(data.get("level")),
                   kind=viewer.code("deadline", data.get("escalation_kind")),
                   recipients=_people(viewer, data.get("recipients")),
                   code=viewer.code("esc.code", data.get("code")),
                   until=viewer.instant(data.get("until")) if data.get("until") else "-",
                   # a waiver (issue 18 §2): the step still not done, when it re-opens
                   step=viewer.code("esc.late", data.get("step")),
                   reopens=viewer.instant(data.get("reopens_at"))
                   if data.get("reopens_at") else "-")
        if item.type == EscalationAction.CLIMBED:
            out.update({"from": _listed(data.get("from")), "to": _listed(data.get("to"))})
        elif item.type == EscalationAction.REASSIGNED:
            out.update({"from": _people(viewer, data.get("from")),
                        "to": _people(viewer, data.get("to"))})
    elif item.type == REDACTION:
        out.update(days=_listed(data.get("retention_days")))
    elif item.type in (SystemEventType.DEADLINE_PAUSED, SystemEventType.DEADLINE_RESUMED):
        # issue 19 §5: a customer-caused pause, and the deadline running on after it
        out.update(kind=viewer.code("deadline", data.get("deadline")),
                   until=viewer.instant(data["until"]) if data.get("until") else "-",
                   due=viewer.instant(data["due_at"]) if data.get("due_at") else "-")
    elif item.kind == StoryKind.NOTIFICATION:
        status = str(data.get("status") or "")
        out.update(channel=viewer.code("story.channel", data.get("channel")),
                   recipient=viewer.teams(data.get("recipient")),
                   notice=viewer.code("story.notice", item.type),
                   outcome=viewer.code("story.outcome", status),
                   attempts=_listed(data.get("attempts", 0)))
    return out


def texts(item: StoryItem, viewer: Viewer | None = None) -> tuple[str, ...]:
    """What people wrote in the item, whole (no cut, no escapes), each once; a redacted text
    (issue 17 §6) in the viewer's words. A code is no text (facts words it); nor is the
    summary Waybill writes itself when it opens a case (in English, of what the facts say),
    but the survey answer it quotes is the customer's."""
    coded = {name for name, _ in _CODED.get((item.kind.value, item.type), ())}
    written = [n for n in _TEXT_FIELDS if n not in coded
               and not (n == "description" and item.actor in SYSTEM_ACTORS)]
    found = [item.data.get(name) for name in written]
    survey = item.data.get("survey")
    if isinstance(survey, dict):
        found.append(survey.get("suggestions"))
    if viewer is not None:
        found = [viewer.t("story.redacted") if t == REDACTED else t for t in found]
        if item.kind == StoryKind.ESCALATION and item.actor in SYSTEM_ACTORS:
            found = [viewer.resolution(t) if isinstance(t, str) else t for t in found]
    return tuple(dict.fromkeys(t for t in found if isinstance(t, str) and t.strip()))


def _scores(viewer: Viewer, scores: Mapping[str, Any]) -> str:
    """Survey scores in the survey's order (shared/survey.py), each as "Timeliness 2/5"."""
    return viewer.t("list_separator").join(
        viewer.t("order.score_item", question=viewer.code("order.question", q), score=s)
        for q, s in in_survey_order(scores))


def facts(viewer: Viewer, item: StoryItem) -> tuple[str, ...]:
    """What else the item says, in words: who read a notice, the codes in its data, the
    survey answer a complaint was opened from."""
    data = item.data
    if item.kind == StoryKind.NOTIFICATION and data.get("read_at"):
        return (viewer.t("story.read_by", name=_listed(data.get("read_by")),
                         at=viewer.instant(data["read_at"])),)
    out = [viewer.t(f"story.fact.{name}", value=viewer.code(group, str(data[name])))
           for name, group in _CODED.get((item.kind.value, item.type), ()) if data.get(name)]
    survey = data.get("survey")
    if isinstance(survey, dict) and isinstance(survey.get("scores"), dict):
        out.append(viewer.t("story.fact.scores", scores=_scores(viewer, survey["scores"])))
        if survey.get("goods_ok") is False:
            out.append(viewer.t("story.fact.goods_not_ok"))
    return tuple(out)


def sentence(viewer: Viewer, item: StoryItem) -> str:
    key = sentence_key(item.kind, item.type, item.data, viewer.locale)
    return viewer.t(key, **fields(viewer, item))  # t: a redacted field reads in words


def row(viewer: Viewer, item: StoryItem) -> StoryRow:
    return StoryRow(
        kind=item.kind.value, type=item.type, event_id=item.event_id,
        subject_id=item.subject_id, actor=viewer.actor(item.actor), source=item.source,
        occurred=viewer.instant(item.occurred_at), recorded=viewer.instant(item.recorded_at),
        sentence=sentence(viewer, item), texts=texts(item, viewer), facts=facts(viewer, item),
        data=json.dumps(item.data, ensure_ascii=False, indent=2, sort_keys=True, default=str),
        by_person=item.actor not in SYSTEM_ACTORS)


def rows(viewer: Viewer, items: Iterable[StoryItem]) -> list[StoryRow]:
    return [row(viewer, item) for item in items]


def chosen_kinds(values: Iterable[str]) -> frozenset[StoryKind]:
    """The kinds ticked in the page's filter (repeated or comma-separated `kind`); none, or
    only unknown ones (a hand-edited address), shows them all."""
    names = {n.strip() for v in values for n in v.split(",")}
    kinds = frozenset(k for k in StoryKind if k.value in names)
    return kinds or ALL_KINDS


def page_context(session: Session, viewer: Viewer, order_id: str,
                 requested: Iterable[str]) -> dict[str, Any]:
    """What templates/console/_story.html needs: the order's story of the chosen kinds as
    rows, and the filter's state."""
    kinds = chosen_kinds(requested)
    told = story_repo.story(session, order_id, kinds)
    return {"story_rows": rows(viewer, told.items),
            "story_kinds": [k.value for k in StoryKind if k in kinds],
            "story_all_kinds": [k.value for k in StoryKind],
            "story_truncated": told.truncated, "story_limit": story_repo.STORY_LIMIT}
