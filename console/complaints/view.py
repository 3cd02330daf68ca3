"""What the complaints pages show: the filtered queue, and one complaint with its steps and
their due times, what the customer was told, the survey that raised it, its escalations,
timeline and the forms its next step takes.

Which forms a viewer gets: their role may send the event (the permission table, through
`user.may`) and the complaint's step takes it; the complaint's workflow checks both again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from api.complaints.schemas import FirstReplyData
from console.cases import filters as case_filters
from console.cases import timeline
from console.cases.forms import Failed
from console.i18n import Viewer
from console.session import ConsoleUser
from db.complaints import queries as repo
from db.complaints.models import ComplaintRow
from db.escalations import subjects
from db.orders.story import StoryKind
from policies import from_snapshot
from workflows.complaint.types import ComplaintCategory, ComplaintStep, Department

STEPS = tuple(s.value for s in ComplaintStep)
DEPARTMENTS = tuple(d.value for d in Department)
CATEGORIES = tuple(c.value for c in ComplaintCategory)
CHANNELS: tuple[str, ...] = tuple(
    a for a in get_args(get_args(FirstReplyData.model_fields["channel"].annotation)[0]))
SCORES = (5, 4, 3, 2, 1)  # best first, as the survey asks
ACTIONS = ("routed", "first_reply", "resolved", "satisfaction", "note")
# Each deadline (the complaint's `deadlines` keys), the step that meets it and when it did.
DEADLINES = (("route", "routed_at"), ("first_reply", "first_reply_at"),
             ("resolve", "resolved_at"), ("satisfaction", "satisfaction_at"))
_OPEN_STEPS = (ComplaintStep.ACCEPTED.value, ComplaintStep.ROUTED.value,
               ComplaintStep.REPLIED.value)


# -- the queue --------------------------------------------------------------------------------


def list_context(session: Session, params: QueryParams) -> dict[str, Any]:
    """The complaints the filters pick (console/cases/filters.py `page_of` says in what
    order), each with its open escalations (level, assignee)."""
    chosen = case_filters.parse(params, STEPS)
    now = datetime.now(UTC)
    flt = repo.ComplaintFilter(
        state=chosen.state or None, step=chosen.step or None,
        customer_id=chosen.customer or None, tier=chosen.tier or None,
        overdue_at=now if chosen.overdue else None, assignee=chosen.assignee or None)
    page, next_cursor, capped = case_filters.page_of(
        lambda limit, after, urgent: repo.list_complaints(session, flt, limit, after, urgent),
        chosen, params)
    held = subjects.assignees(session, "complaint")
    return {"complaints": page, "next_cursor": next_cursor, "capped": capped,
            "filters": chosen, "filtered": bool(params), "now": now,
            "urgent_max": case_filters.URGENT_MAX,
            "escalations": subjects.open_for(session, "complaint", [r.id for r in page]),
            "assignees": [*DEPARTMENTS, *(a for a in held if a not in DEPARTMENTS)],
            "departments": DEPARTMENTS,
            "states": case_filters.STATES, "steps": STEPS, "tiers": case_filters.TIERS}


def overdue(row: ComplaintRow, now: datetime) -> bool:
    return row.step != ComplaintStep.CLOSED.value and row.due_at is not None \
        and row.due_at < now


# -- one complaint ----------------------------------------------------------------------------


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def steps_of(row: ComplaintRow, now: datetime) -> list[dict[str, Any]]:
    deadlines = row.deadlines or {}
    out = []
    for kind, column in DEADLINES:
        due_at = _when(deadlines.get(kind))
        current = row.due_kind == kind and row.step != ComplaintStep.CLOSED.value
        out.append({"kind": kind, "due_at": due_at, "done_at": getattr(row, column),
                    "current": current,
                    "late": current and due_at is not None and due_at < now})
    return out


def offered(user: ConsoleUser | None, row: ComplaintRow) -> dict[str, bool]:
    def may(action: str) -> bool:
        return user is not None and user.may(f"complaint.event.{action}")

    step = row.step
    return {
        "routed": may("routed") and step in _OPEN_STEPS,
        "first_reply": may("first_reply") and step == ComplaintStep.ROUTED.value,
        "resolved": may("resolved") and step == ComplaintStep.REPLIED.value,
        "satisfaction": may("satisfaction") and step == ComplaintStep.RESOLVED.value,
        "note": may("note") and step != ComplaintStep.CLOSED.value,
    }


def complaint_context(session: Session, viewer: Viewer, user: ConsoleUser | None,
                      row: ComplaintRow, params: QueryParams,
                      failed: Failed | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    done = params.get("done")
    return {
        "complaint": row, "customer": row.customer or {}, "survey": row.survey,
        "now": now, "steps": steps_of(row, now), "late": overdue(row, now),
        "escalations": [{"row": e, "step": subjects.late_step(e)}
                        for e in subjects.all_for(session, "complaint", row.id)],
        "offered": offered(user, row), "failed": failed,
        "done": done if done in ACTIONS else None,
        "departments": DEPARTMENTS, "categories": CATEGORIES, "channels": CHANNELS,
        "scores": SCORES,
        # a survey score at or below it opened the complaint: shown as low
        "low_max": from_snapshot(row.sla_policy_snapshot).complaints.low_score_max,
        **timeline.page_context(session, viewer, StoryKind.COMPLAINT, row.id,
                                params.getlist("kind")),
    }
