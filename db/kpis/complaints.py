"""The KPI aggregates of complaints (投诉): how many opened, how long to the first reply and to
resolution, and the satisfaction with the resolution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, FromClause, func, literal, select, union_all
from sqlalchemy.orm import Session

from db.complaints.models import ComplaintRow
from db.kpis.window import Key, Samples, Window, as_int, grouped, key_of, samples, seconds

_COMPLAINT_OWN = {"customer": ComplaintRow.customer_id, "tier": ComplaintRow.customer_tier,
                  "sla_policy": ComplaintRow.sla_policy}


def _complaint_source(group_by: Sequence[str]) -> tuple[list[ColumnElement[Any]], FromClause]:
    return grouped(ComplaintRow, _COMPLAINT_OWN, ComplaintRow.order_id, group_by)


def complaints_opened(session: Session, w: Window, group_by: Sequence[str]) -> dict[Key, int]:
    groups, source = _complaint_source(group_by)
    q = (select(*groups, func.count()).select_from(source)
         .where(w.holds(ComplaintRow.opened_at)).group_by(*groups))
    n = len(groups)
    return {key_of(r, n): as_int(r[n]) for r in session.execute(q)}


def complaint_durations(session: Session, w: Window, group_by: Sequence[str]
                        ) -> Samples:
    """From acceptance to the first reply, and to resolution, for those done in the window."""
    groups, source = _complaint_source(group_by)
    parts = [select(*groups, literal(name).label("metric"),
                    seconds(ComplaintRow.opened_at, end).label("secs"))
             .select_from(source).where(w.holds(end))
             for name, end in (("time_to_first_reply", ComplaintRow.first_reply_at),
                               ("time_to_resolution", ComplaintRow.resolved_at))]
    return samples(session, select(union_all(*parts).subquery()), len(groups))


def complaint_scores(session: Session, w: Window, group_by: Sequence[str]
                     ) -> dict[Key, dict[int, int]]:
    """Satisfaction with the resolution given in the window: how many gave each score."""
    groups, source = _complaint_source(group_by)
    q = (select(*groups, ComplaintRow.satisfaction_score, func.count()).select_from(source)
         .where(w.holds(ComplaintRow.satisfaction_at),
                ComplaintRow.satisfaction_score.is_not(None))
         .group_by(*groups, ComplaintRow.satisfaction_score))
    n = len(groups)
    out: dict[Key, dict[int, int]] = {}
    for r in session.execute(q):
        out.setdefault(key_of(r, n), {})[int(r[n])] = as_int(r[n + 1])
    return out
