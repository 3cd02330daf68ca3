"""The escalations queue and one escalation's ladder; acknowledge, resolve, reassign and snooze
from either, through the same workflow updates the API runs (api.escalation_actions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.escalations import service as actions
from console import pages
from console.board.routes import POLL_SECONDS
from console.board.view import STAGES
from console.deps import Page, PageDep
from console.i18n import catalogue
from db.escalations import queries as repo
from workflows.escalation.types import AcknowledgeInput, ReassignInput, ResolveInput, SnoozeInput
from workflows.escalation.workflow import EscalationWorkflow
from workflows.order.types import BreachKind

router = APIRouter()
QUEUE_LIMIT = 200
TEXT_MAX = 2000
ASSIGNEE_MAX = 120
KINDS = [k.value for k in BreachKind]
STATES = ("open", "resolved")
LEVELS = range(1, 10)
# Offered in the resolve form; the API takes any code of this shape.
RESOLUTION_CODES = ("customer_informed", "carrier_rescheduled", "warehouse_expedited",
                    "false_alarm", "other")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ACTIONS = ("acknowledge", "resolve", "reassign", "snooze")


@dataclass
class QueueFilter:
    state: str = "open"
    level: int | None = None
    stage: str | None = None
    kind: str | None = None
    assignee: str | None = None

    @classmethod
    def parse(cls, state: str | None, level: str | None, stage: str | None, kind: str | None,
              assignee: str | None) -> QueueFilter:
        """Unknown values are dropped, not refused: a stale bookmark still opens the queue."""
        return cls(state=state if state in STATES else "open",
                   level=int(level) if level and level.isdigit() and int(level) in LEVELS
                   else None,
                   stage=stage if stage in STAGES else None,
                   kind=kind if kind in KINDS else None,
                   assignee=(assignee or "").strip()[:ASSIGNEE_MAX] or None)

    def query(self) -> dict[str, str]:
        return {k: str(v) for k, v in (("state", self.state), ("level", self.level),
                                       ("stage", self.stage), ("kind", self.kind),
                                       ("assignee", self.assignee)) if v is not None}


def _subject(subject: str) -> tuple[str, str] | None:
    """("claim", id) for "claim:ID", likewise complaints; None when the order itself breached."""
    kind, _, ident = subject.partition(":")
    return (kind, ident) if ident else None


def _common() -> dict[str, Any]:
    return {"now": datetime.now(UTC), "codes": RESOLUTION_CODES, "subject_of": _subject,
            "text_max": TEXT_MAX, "assignee_max": ASSIGNEE_MAX}


def _queue_context(session: SessionDep, flt: QueueFilter) -> dict[str, Any]:
    rows = repo.list_escalations(session, repo.EscalationFilter(
        state=flt.state, level=flt.level, stage=flt.stage, kind=flt.kind,
        assignee=flt.assignee), QUEUE_LIMIT, severity_first=True)
    query = urlencode(flt.query())
    # The forms in the rows come back to the queue as filtered, whether the rows came with
    # the page or with a later poll.
    return {"rows": rows, "limit": QUEUE_LIMIT, "back": f"/console/escalations?{query}",
            **_common()}


@router.get("/escalations", response_class=HTMLResponse)
def queue(page: PageDep, session: SessionDep, state: str | None = None,
          level: str | None = None, stage: str | None = None, kind: str | None = None,
          assignee: str | None = None) -> Response:
    page.signed_in()
    flt = QueueFilter.parse(state, level, stage, kind, assignee)
    return page.render("escalations.html", flt=flt, kinds=KINDS, stages=STAGES,
                       levels=LEVELS, states=STATES, poll_seconds=POLL_SECONDS,
                       rows_url=f"/console/escalations/rows?{urlencode(flt.query())}",
                       **_queue_context(session, flt))


# Declared before /escalations/{escalation_id}, which would otherwise claim "rows".
@router.get("/escalations/rows", response_class=HTMLResponse)
def queue_rows(page: PageDep, session: SessionDep, state: str | None = None,
               level: str | None = None, stage: str | None = None, kind: str | None = None,
               assignee: str | None = None) -> Response:
    """Just the queue, for the page's poller; 401 (and the page reloads to sign in) when the
    session has ended."""
    if page.user is None:
        return Response(status_code=401, headers=pages.security_headers(page.viewer.locale))
    flt = QueueFilter.parse(state, level, stage, kind, assignee)
    return page.render("_esc_queue.html", **_queue_context(session, flt))


def _detail(page: PageDep, session: SessionDep, escalation_id: str, status: int = 200,
            error: str | None = None) -> Response:
    row = repo.get_escalation(session, escalation_id)
    if row is None:
        return page.message(404, "esc.not_found")
    return page.render("escalation.html", status=status, esc=row, error=error,
                       history=repo.history(session, escalation_id),
                       back=f"/console/escalations/{quote(escalation_id)}", **_common())


def _detail_in(session: Session, page: Page, escalation_id: str, status: int,
               error: str) -> Response:
    """`_detail` as a unit of work for `Db.run` (session first)."""
    return _detail(page, session, escalation_id, status, error)


@router.get("/escalations/{escalation_id}", response_class=HTMLResponse)
def detail(escalation_id: str, page: PageDep, session: SessionDep) -> Response:
    page.signed_in()
    return _detail(page, session, escalation_id)


def _until(value: str, zone: str) -> datetime | None:
    """A datetime-local field, read in the viewer's zone."""
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def _update(action: str, form: dict[str, str], actor: str,
            zone: str) -> tuple[Any, Any] | str:
    """The workflow update and its input for a posted form, or the key of what is wrong."""
    comment = form.get("comment", "").strip()[:TEXT_MAX] or None
    if action == "acknowledge":
        return EscalationWorkflow.acknowledge, AcknowledgeInput(actor=actor, comment=comment)
    if action == "resolve":
        code, text = form.get("code", "").strip(), form.get("text", "").strip()
        if not _CODE.match(code):
            return "esc.error.bad_code"
        if not text or len(text) > TEXT_MAX:
            return "esc.error.bad_text"
        return EscalationWorkflow.resolve, ResolveInput(actor=actor, code=code, text=text,
                                                        comment=comment)
    if action == "reassign":
        assignee = form.get("assignee", "").strip()
        if not assignee or len(assignee) > ASSIGNEE_MAX:
            return "esc.error.bad_assignee"
        return EscalationWorkflow.reassign, ReassignInput(actor=actor, assignee=assignee,
                                                          comment=comment)
    until = _until(form.get("until", ""), zone)
    if until is None:
        return "esc.error.bad_until"
    return EscalationWorkflow.snooze, SnoozeInput(actor=actor, until=until, comment=comment)


@router.post("/escalations/{escalation_id}/{action}", response_class=HTMLResponse)
async def act(escalation_id: str, action: str, page: PageDep, db: DbDep,
              temporal: TemporalDep) -> Response:
    user = page.allow("escalation")
    form = await page.form()
    if action not in _ACTIONS:
        return page.message(404, "esc.not_found")
    update = _update(action, form, user.name, page.viewer.zone)
    if isinstance(update, str):
        return await db.run(_detail_in, page, escalation_id, 422, update)
    try:
        await actions.act(db, temporal, page.settings, escalation_id, *update)
    except ApiError as exc:
        if exc.status == 404:
            return page.message(404, "esc.not_found")
        if exc.status == 503:
            return page.message(503, "unavailable")
        key = f"esc.error.{exc.code}"
        if key not in catalogue(page.viewer.locale):
            key = "esc.error.rejected"
        return await db.run(_detail_in, page, escalation_id, exc.status, key)
    back = form.get("next", "")
    if not back.startswith("/console/escalations") or "//" in back or "\\" in back:
        back = f"/console/escalations/{quote(escalation_id)}"
    return RedirectResponse(back, 303)
