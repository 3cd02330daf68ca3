"""The KPI aggregates of follow-ups (回访): how many fell due, were attempted and answered,
and what the answered surveys said (scores per question, problem codes, suggestions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session

from db.follow_ups.models import FollowUp
from db.kpis.window import Key, Window, as_int, grouped, is_true, key_of

_FOLLOW_UP_OWN = {"customer": FollowUp.customer_id, "tier": FollowUp.customer_tier,
                  "sla_policy": FollowUp.sla_policy}


def _follow_up_source(group_by: Sequence[str]) -> tuple[list[ColumnElement[Any]], FromClause]:
    return grouped(FollowUp, _FOLLOW_UP_OWN, FollowUp.order_id, group_by)


def follow_up_counts(session: Session, w: Window, group_by: Sequence[str]
                     ) -> dict[Key, dict[str, int]]:
    """Follow-ups that fell due in the window: due, attempted, answered, and per outcome
    (`outcome:answered|refused|expired|open`)."""
    groups, source = _follow_up_source(group_by)
    outcome = func.coalesce(FollowUp.outcome, "open").label("outcome")
    q = (select(*groups, outcome, func.count(),
                func.sum(case((is_true(FollowUp.attempted), 1), else_=0)),
                func.sum(case((FollowUp.status == "answered", 1), else_=0)))
         .select_from(source).where(w.holds(FollowUp.due_at)).group_by(*groups, outcome))
    n = len(groups)
    out: dict[Key, dict[str, int]] = {}
    for r in session.execute(q):
        figures = out.setdefault(key_of(r, n), {"due": 0, "attempted": 0, "answered": 0})
        figures["due"] += as_int(r[n + 1])
        figures["attempted"] += as_int(r[n + 2])
        figures["answered"] += as_int(r[n + 3])
        figures[f"outcome:{r[n]}"] = figures.get(f"outcome:{r[n]}", 0) + as_int(r[n + 1])
    return out


def _json_items(session: Session, column: Any, kind: str) -> tuple[Any, ColumnElement[bool]]:
    """A table function over a JSON object's (key, value) or an array's values, and the filter
    keeping rows whose JSON really is of that kind (a stored JSON null is not)."""
    if session.get_bind().dialect.name == "postgresql":
        if kind == "object":
            return (func.jsonb_each_text(column).table_valued("key", "value"),
                    func.jsonb_typeof(column) == "object")
        return (func.jsonb_array_elements_text(column).table_valued("value"),
                func.jsonb_typeof(column) == "array")
    names = ("key", "value") if kind == "object" else ("value",)
    return func.json_each(column).table_valued(*names), func.json_type(column) == kind


def survey_scores(session: Session, w: Window, group_by: Sequence[str]
                  ) -> dict[Key, dict[str, dict[int, int]]]:
    """Answered follow-ups due in the window: per question, how many gave each score."""
    groups, source = _follow_up_source(group_by)
    items, is_object = _json_items(session, FollowUp.scores, "object")
    score = cast(items.c.value, Integer)
    q = (select(*groups, items.c.key, score, func.count())
         .select_from(source).join(items, literal(True))
         .where(w.holds(FollowUp.due_at), FollowUp.status == "answered", is_object)
         .group_by(*groups, items.c.key, score))
    n = len(groups)
    out: dict[Key, dict[str, dict[int, int]]] = {}
    for r in session.execute(q):
        out.setdefault(key_of(r, n), {}).setdefault(r[n], {})[int(r[n + 1])] = as_int(r[n + 2])
    return out


def survey_problems(session: Session, w: Window, group_by: Sequence[str]
                    ) -> dict[Key, dict[str, int]]:
    """Answered follow-ups due in the window: how often each problem code was raised."""
    groups, source = _follow_up_source(group_by)
    items, is_array = _json_items(session, FollowUp.problems, "array")
    q = (select(*groups, items.c.value, func.count())
         .select_from(source).join(items, literal(True))
         .where(w.holds(FollowUp.due_at), is_array)
         .group_by(*groups, items.c.value))
    n = len(groups)
    out: dict[Key, dict[str, int]] = {}
    for r in session.execute(q):
        out.setdefault(key_of(r, n), {})[str(r[n])] = as_int(r[n + 1])
    return out


def survey_suggestions(session: Session, w: Window, group_by: Sequence[str]
                       ) -> dict[Key, dict[str, int]]:
    """Suggestions written in follow-ups due in the window, counted by their exact text."""
    groups, source = _follow_up_source(group_by)
    q = (select(*groups, FollowUp.suggestions, func.count())
         .select_from(source)
         .where(w.holds(FollowUp.due_at), FollowUp.suggestions.is_not(None),
                FollowUp.suggestions != "")
         .group_by(*groups, FollowUp.suggestions))
    n = len(groups)
    out: dict[Key, dict[str, int]] = {}
    for r in session.execute(q):
        out.setdefault(key_of(r, n), {})[str(r[n])] = as_int(r[n + 1])
    return out
