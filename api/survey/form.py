"""The survey form's answers (seed 003) and whether an order's survey takes them now.

Questions: did the goods arrive in order (yes/no); timeliness, completeness and courtesy, 1-5
each; suggestions, free text. Answers become the data of a `survey_response` event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from api.orders.events import SurveyData
from api.orders.read_model import detail_of
from api.survey.i18n import Translate
from db.orders.models import Order
from workflows.order.types import TERMINAL_STAGES, FollowUpStatus

SCORE_NAMES = ("timeliness", "completeness", "courtesy")
SCORES = (1, 2, 3, 4, 5)
MAX_SUGGESTIONS = 2000
FIELDS = ("goods_ok", *SCORE_NAMES, "suggestions")
# Where each field's error links to: its first control.
ANCHORS = {"goods_ok": "goods_ok-yes", **{n: f"{n}-1" for n in SCORE_NAMES},
           "suggestions": "suggestions"}


class SurveyState(StrEnum):
    OPEN = "open"
    NOT_YET = "not_yet"  # delivered (or not even that), survey not yet due
    ANSWERED = "answered"
    CLOSED = "closed"  # window over, survey unsuccessful, or the order ended without one


def survey_state(order: Order, now: datetime) -> SurveyState:
    """Read from the order's projection, with the clock applied: a window past its end is
    closed even if the workflow has not yet recorded it (its timer may fire a little late)."""
    survey = detail_of(order).survey
    if survey is None:
        ended = order.stage in TERMINAL_STAGES
        return SurveyState.CLOSED if ended else SurveyState.NOT_YET
    if survey.status == FollowUpStatus.ANSWERED:
        return SurveyState.ANSWERED
    if survey.status == FollowUpStatus.UNSUCCESSFUL or now >= survey.expires_at:
        return SurveyState.CLOSED
    if survey.status == FollowUpStatus.DUE:
        return SurveyState.OPEN
    return SurveyState.NOT_YET


@dataclass
class Answers:
    """What was sent (kept to re-show the form) and, per field, what is wrong with it."""

    values: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FIELDS, ""))
    errors: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FIELDS, ""))
    data: dict[str, Any] | None = None  # the event data, when nothing is wrong

    @property
    def summary(self) -> list[tuple[str, str]]:
        return [(ANCHORS[name], msg) for name, msg in self.errors.items() if msg]


def _one(form: Mapping[str, Sequence[Any]], name: str) -> str | None:
    """The field's single text value; missing, repeated or a file counts as not answered."""
    values = form.get(name) or []
    if len(values) != 1 or not isinstance(values[0], str):
        return None
    return values[0]


def parse_answers(form: Mapping[str, Sequence[Any]], t: Translate) -> Answers:
    """Check the posted form (field name -> its values); `t` words the error messages."""
    answers = Answers()
    goods = _one(form, "goods_ok")
    answers.values["goods_ok"] = goods or ""
    if goods not in ("yes", "no"):
        answers.errors["goods_ok"] = t("error_goods_required")
    scores: dict[str, int] = {}
    for name in SCORE_NAMES:
        raw = (_one(form, name) or "").strip()
        answers.values[name] = raw
        if raw in {str(s) for s in SCORES}:
            scores[name] = int(raw)
        else:
            answers.errors[name] = t("error_score_required", question=t(f"score_{name}"))
    suggestions = (_one(form, "suggestions") or "").replace("\r\n", "\n").strip()
    answers.values["suggestions"] = suggestions
    if len(suggestions) > MAX_SUGGESTIONS:
        answers.errors["suggestions"] = t("error_suggestions_too_long", max=MAX_SUGGESTIONS)
    if any(answers.errors.values()):
        return answers
    data = {"goods_ok": goods == "yes", "scores": scores,
            "suggestions": suggestions or None, "channel": "web"}
    # The same checks the events endpoint applies, so a web answer is a valid survey_response.
    answers.data = SurveyData.model_validate(data).model_dump(exclude={"comment"})
    return answers
