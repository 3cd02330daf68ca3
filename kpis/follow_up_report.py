"""The monthly follow-up report (回访月报): follow-ups that fell due in a month, done and
successful, satisfaction per question, recurring problems and suggestions; in total, per
customer and per tier."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db.kpis.follow_ups import follow_up_counts, survey_problems, survey_scores, survey_suggestions
from db.kpis.window import Key, Window
from kpis.compute import sort_key, window_of
from kpis.models import Count, FollowUpFigures, FollowUpGroup, FollowUpReport, Period, Rate, Scores
from kpis.periods import month_bounds

SUGGESTIONS_KEPT = 20
# A survey's problem codes (workflows/order/follow_up.py) include "suggestion" when the customer
# wrote one, and committed histories keep it; but a suggestion ("Thanks, all fine") is no
# problem (issue 18 §6): problems are ranked from low scores and goods not in order only, and
# suggestions are listed by their text beside them.
NOT_PROBLEMS = frozenset({"suggestion"})


def _counts(counts: dict[str, int], keep: int | None = None) -> list[Count]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Count(label=k, count=v) for k, v in ranked[:keep]]


def _follow_up_figures(session: Session, w: Window, group_by: Sequence[str]
                       ) -> dict[Key, FollowUpFigures]:
    counts = follow_up_counts(session, w, group_by)
    scores = survey_scores(session, w, group_by)
    problems = survey_problems(session, w, group_by)
    suggestions = survey_suggestions(session, w, group_by)
    keys = set(counts) | ({()} if not group_by else set())
    out = {}
    for key in keys:
        c = counts.get(key, {})
        due, attempted, answered = c.get("due", 0), c.get("attempted", 0), c.get("answered", 0)
        per_question = scores.get(key, {})
        overall: Counter[int] = Counter()
        for dist in per_question.values():
            overall.update(dist)
        out[key] = FollowUpFigures(
            due=due, attempted=attempted, answered=answered,
            follow_up_rate=Rate.of(attempted, due),
            successful_follow_up_rate=Rate.of(answered, due),
            outcomes={k.split(":", 1)[1]: v for k, v in sorted(c.items())
                      if k.startswith("outcome:")},
            overall_satisfaction=Scores.of(dict(overall)),
            satisfaction={q: Scores.of(d) for q, d in sorted(per_question.items())},
            problems=_counts({code: n for code, n in problems.get(key, {}).items()
                              if code not in NOT_PROBLEMS}),
            suggestions=_counts(suggestions.get(key, {}), SUGGESTIONS_KEPT))
    return out


def problems_only(body: dict[str, Any]) -> dict[str, Any]:
    """A stored report's JSON (computed before NOT_PROBLEMS) with those codes left out of
    every problems list, so it reads, and compares with a recomputation, as reports now do."""
    def figures(f: dict[str, Any]) -> dict[str, Any]:
        return {**f, "problems": [p for p in f.get("problems", [])
                                  if p.get("label") not in NOT_PROBLEMS]}
    out = {**body, "total": figures(body["total"])} if "total" in body else dict(body)
    for scope in ("by_customer", "by_tier"):
        if scope in body:
            out[scope] = [{**g, "figures": figures(g["figures"])} for g in body[scope]]
    return out


def _groups(session: Session, w: Window, key: str) -> list[FollowUpGroup]:
    figures = _follow_up_figures(session, w, [key])
    return [FollowUpGroup(key=str(k[0]), figures=figures[k])
            for k in sorted(figures, key=sort_key)]


def follow_up_monthly(session: Session, month: str, tz: ZoneInfo,
                      as_of: datetime | None = None) -> FollowUpReport:
    """回访月报 of `month` (YYYY-MM) in zone `tz`: follow-ups that fell due that month, done and
    successful, satisfaction per question, recurring problems; in total, per customer, per tier.

    Raises:
        PeriodError: `month` is not YYYY-MM.
    """
    start, stop = month_bounds(month, tz)
    w, as_of = window_of(start, stop, as_of)
    total = _follow_up_figures(session, w, [])[()]
    period = Period(from_=start, to=stop, as_of=as_of, timezone=str(tz))
    return FollowUpReport(month=month, period=period, total=total,
                          by_customer=_groups(session, w, "customer"),
                          by_tier=_groups(session, w, "tier"))
