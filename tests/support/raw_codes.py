"""Codes a console page must never show raw (issue 18 §6): the vocabularies the code knows
(stages, deadline kinds, event types, recipients, roles, sources, causes, categories, channels,
outcomes, policy names...) and a reader of a page's visible words that finds them.

What counts as visible: text nodes outside <head>, <script>, <style>, <code>, <pre> (ids and
full-data blocks) and <textarea>; attributes (URLs, ids, data-*) never. A token glued to an id
(`esc-SO-1-confirm_late`, `SO-1`, a URL, an e-mail address) is not a code shown as a word.

- zh-CN: any whole token equal to a code is raw (a Chinese page has no English words).
- en: a snake_case code (`ops_desk`) anywhere is raw; a one-word code (`integration`, `waybill`)
  is raw when a text stands alone as exactly that code (a table cell, a list item), since the
  same letters inside an English sentence are the English word.
- both: any token shaped like a code (lower-case words joined by `_`, no digits) is raw even if
  no vocabulary below knows it: a code's words are never written that way.
"""

from __future__ import annotations

import re
from enum import StrEnum
from html.parser import HTMLParser
from typing import get_args

from api.claims.schemas import ContactData
from api.complaints.schemas import FirstReplyData
from api.deps import Role
from api.orders.events import DeliveredData, DeliveryExceptionData, FollowUpCallData, Pod
from api.survey.router import SOURCE as SURVEY_SOURCE
from console.escalations.routes import RESOLUTION_CODES
from console.orders.routes import SOURCE as CONSOLE_SOURCE
from db.notifications.models import Channel, OutboxStatus
from db.notifications.outbox import NotificationEvent
from db.orders.story import ESCALATION_SOURCE, OUTBOX_SOURCE, StoryKind
from policies import DEFAULT_LADDER
from shared.survey import SURVEY_QUESTIONS
from tests.support.builders import POLICIES
from workflows.claim import types as claim_types
from workflows.complaint import types as complaint_types
from workflows.escalation import types as escalation_types
from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE
from workflows.order import types as order_types

_SKIPPED = frozenset({"head", "script", "style", "code", "pre", "textarea", "template"})
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
_URL = re.compile(r"\S+://\S+")
# A token: letters, digits and what ids and addresses are glued with; trailing sentence
# punctuation is not part of it.
_TOKEN = re.compile(r"[A-Za-z0-9_:./@#\-]+", re.ASCII)
_CODE_SHAPED = re.compile(r"[a-z]+(?:_[a-z]+)+")


def _enum_values(*modules: object) -> set[str]:
    return {str(member.value) for module in modules for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
            for member in value}


def _literal(model: type, field: str) -> set[str]:
    """The values of a Literal field (an optional one's too)."""
    hint = model.model_fields[field].annotation  # type: ignore[attr-defined]
    values = [v for arg in get_args(hint) for v in (get_args(arg) or (arg,))]
    return {v for v in values if isinstance(v, str)}


def _recipients() -> set[str]:
    named = {r for level in DEFAULT_LADDER["levels"] for r in level["recipients"]}
    return named | {r for p in POLICIES.values() if p.escalation
                    for level in p.escalation.levels for r in level.recipients}


def vocabulary() -> frozenset[str]:
    """Every code a page could be tempted to show as it is stored."""
    codes = _enum_values(order_types, claim_types, complaint_types, escalation_types)
    codes |= {str(c) for c in (*Role, *Channel, *OutboxStatus, *StoryKind, *NotificationEvent)}
    codes |= _literal(DeliveryExceptionData, "reason") | _literal(DeliveredData, "condition")
    codes |= _literal(Pod, "kind") | set(SURVEY_QUESTIONS) | _recipients() | set(POLICIES)
    codes |= _literal(FollowUpCallData, "outcome") | set(RESOLUTION_CODES)
    codes |= _literal(ContactData, "channel") | _literal(FirstReplyData, "channel")
    codes |= {"goods_not_ok", "low_score", "suggestion"}  # follow-up problems (fur.problem.*)
    codes |= {"not_acknowledged", "not_resolved"}  # why a ladder climbed (escalation workflow)
    codes |= {SYSTEM_ACTOR, SYSTEM_SOURCE, CONSOLE_SOURCE, SURVEY_SOURCE, ESCALATION_SOURCE,
              OUTBOX_SOURCE, "demo_standard", "demo_key_account"}
    return frozenset(c for c in codes if c)


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping: list[str] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        if self.skipping or tag in _SKIPPED:
            self.skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag in self.skipping:
            while self.skipping and self.skipping.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(data.strip())


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.texts


def raw_codes(html: str, locale: str, codes: frozenset[str] | None = None
              ) -> dict[str, str]:
    """The codes `html` shows as words to a reader of `locale`, each with the (first) text it
    stands in."""
    codes = vocabulary() if codes is None else codes
    found: dict[str, str] = {}
    for text in visible_texts(html):
        if locale == "en" and text in codes:
            found.setdefault(text, text)
        for token in _TOKEN.findall(_URL.sub(" ", text)):
            token = token.rstrip(".:#")
            if (token in codes and (locale != "en" or "_" in token)
                    or _CODE_SHAPED.fullmatch(token)):
                found.setdefault(token, text[:120])
    return found
