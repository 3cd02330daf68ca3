"""The monthly follow-up report in words, in a reader's locale: the late-change lines (one per
changed figure and group, "follow-up rate, total: 85.0% (34/40) → 86.0% (37/43)", grouped by
figure with the total first), satisfaction per question and the top problems. The words sit
beside the message templates (templates/notifications/<locale>/report.follow_up_monthly.json),
so a translator finds them in one place. Shared by the scheduled message and the console page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, TypeVar

from db.notifications.outbox import NotificationEvent
from db.notifications.templates import TEMPLATE_DIR, normalize_locale
from shared.survey import SURVEY_QUESTIONS

T = TypeVar("T")
LATE_FIGURES_LISTED = 12  # lines in the message; the webhook payload carries them all
TOP_PROBLEMS = 3  # in the message; the report in the payload has them all

# The rates' numerators and denominators: a change shows in the rate's line ("34/40 → 35/41"),
# so a line of their own would say it twice. (`outcomes.answered` counts what `answered` does.)
_SHOWN_IN_RATES = {"due", "attempted", "answered", "outcomes.answered"}
_GROUP = re.compile(r"(by_\w+)\[(.*)\]\.figures\.(.+)", re.DOTALL)
# outcomes.refused, satisfaction.service, problems[goods_not_ok].count, suggestions[text].count
_NAMED = re.compile(r"(\w+)(?:\[(.*)\]\.count|\.(.+))?", re.DOTALL)


@lru_cache(maxsize=4)
def _words(locale: str) -> dict[str, str]:
    # Beside the message template, so a translator finds the report's words in one place.
    path = TEMPLATE_DIR / locale / f"{NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def percent(rate: dict[str, Any]) -> str:
    value = rate.get("rate")
    if value is None:
        return "-"
    return f"{value * 100:.1f}% ({rate['numerator']}/{rate['denominator']})"


def scores_text(scores: dict[str, Any]) -> str:
    mean = scores.get("mean")
    return "-" if mean is None else f"{mean:.2f} ({scores['count']})"


def _value(value: Any, words: dict[str, str]) -> str:
    if isinstance(value, dict) and "numerator" in value:
        return percent(value)
    if isinstance(value, dict) and "mean" in value:
        return scores_text(value)
    return words["none"] if value is None else str(value)


def _scope_and_name(path: str) -> tuple[str, str, str]:
    """("total" | "by_customer" | "by_tier", group key, figure name) of a figure's path."""
    group = _GROUP.fullmatch(path)
    if group:
        return group[1], group[2], group[3]
    return "total", "", path.removeprefix("total.")


def _question(question: str, words: dict[str, str]) -> str:
    return words.get(f"question.{question}", question)  # a question added later: as sent


def problem_words(code: str, words: dict[str, str]) -> str:
    """A problem code as a manager reads it: `low_score:<question>` names the question."""
    kind, _, question = code.partition(":")
    if kind == "low_score" and question:
        return words["problem.low_score"].format(question=_question(question, words))
    return words.get(f"problem.{code}", code)


def _label(name: str, words: dict[str, str]) -> str:
    named = _NAMED.fullmatch(name)
    if not named or f"figure.{named[1]}" not in words:
        return name  # a figure added to the report later: its path still says what it is
    key = named[2] if named[2] is not None else named[3] or ""
    if named[1] == "outcomes":
        key = words.get(f"outcome.{key}", key)
    elif named[1] == "satisfaction":
        key = _question(key, words)
    elif named[1] == "problems":
        key = problem_words(key, words)
    key = " ".join(key.split())  # a suggestion is the customer's text: keep it to one line
    key = key if len(key) <= 40 else key[:39] + "…"
    return words[f"figure.{named[1]}"].format(key=key)


def late_lines(changed: list[dict[str, Any]], locale: str) -> list[tuple[bool, str]]:
    """One line per changed figure (kpis.late.figures, in the report's order) in `locale`,
    grouped by figure with the total first: `(is it a total, line)`."""
    words = _words(normalize_locale(locale))
    rows = []
    for change in changed:
        scope, key, name = _scope_and_name(change["figure"])
        if name in _SHOWN_IN_RATES:
            continue
        if scope == "total":
            where = words["scope.total"]
        else:
            group = words.get(f"tier.{key}", key) if scope == "by_tier" else key
            where = words.get(f"scope.{scope}", f"{scope} {{key}}").format(key=group)
        rows.append((name, scope == "total", words["line"].format(
            figure=_label(name, words), scope=where,
            reported=_value(change["reported"], words), now=_value(change["now"], words))))
    first = {name: i for i, (name, _, _) in reversed(list(enumerate(rows)))}
    return [(total, line) for name, total, line in
            sorted(rows, key=lambda row: (first[row[0]], not row[1]))]


def late_text(lines: list[tuple[bool, str]], locale: str) -> str:
    """At most LATE_FIGURES_LISTED lines: past that, groups' lines give way to the totals (what
    a manager reads first), and a last line counts what was left out."""
    if not lines:
        return "-"
    kept = sorted(sorted(range(len(lines)), key=lambda i: (not lines[i][0], i))
                  [:LATE_FIGURES_LISTED])
    text = [lines[i][1] for i in kept]
    if len(lines) > len(kept):
        text.append(_words(normalize_locale(locale))["more"].format(
            count=len(lines) - len(kept)))
    return "\n".join(text)


def satisfaction_text(figures: dict[str, Any], locale: str) -> str:
    """One line per question, the survey's order first: mean and how many answered."""
    words = _words(normalize_locale(locale))
    lines = [words["question_line"].format(question=_question(q, words), scores=scores_text(sc))
             for q, sc in in_survey_order(figures["satisfaction"])]
    return "\n".join(lines) or words["none"]


def in_survey_order(per_question: Mapping[str, T]) -> list[tuple[str, T]]:
    """Figures per question in the survey's order; others (older surveys) after them."""
    known = {q: i for i, q in enumerate(SURVEY_QUESTIONS)}
    return sorted(per_question.items(), key=lambda kv: (known.get(kv[0], 99), kv[0]))


def problems_text(figures: dict[str, Any], locale: str) -> str:
    words = _words(normalize_locale(locale))
    lines = [words["problem_line"].format(rank=i, problem=problem_words(p["label"], words),
                                          count=p["count"])
             for i, p in enumerate(figures["problems"][:TOP_PROBLEMS], start=1)]
    return "\n".join(lines) or words["none"]


def report_url(public_url: str, month: str) -> str:
    """The console page of the month's report: readable in a browser, unlike the API."""
    return f"{public_url}/console/reports/follow-up-monthly?month={month}"
