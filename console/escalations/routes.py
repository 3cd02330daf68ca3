"""The escalations triage queue and one escalation's ladder; acknowledge (one or many),
resolve with a waiver, reassign and snooze from either, through the same workflow updates the
API runs (api/escalations/service.py).

After an action the browser is sent back where it came from with `?done=<action>` (a status
message in the viewer's language) and, from the queue, focus on the row that comes next; a
refusal re-renders that same page with the message and the typed values kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.escalations import service as actions
from console import pages
from console.audit import story
from console.board.routes import POLL_SECONDS
from console.board.view import STAGES
from console.deps import Page, PageDep
from console.escalations.forms import (
    ACTIONS,
    BULK_PREFIX,
    REASON_MAX,
    RESOLUTION_CODES,
    TEXT_MAX,
    Outcome,
    back_of,
    done_url,
    outcome_of,
    typed,
    update_for,
)
from console.escalations.queue import ladder_of, levels_of, queue_row
from console.escalations.triage import (
    ASSIGNEE_MAX,
    KINDS,
    QUEUE_LIMIT,
    STATES,
    VIEWS,
    Known,
    QueueFilter,
    known_to,
    rows,
)
from console.i18n import catalogue
from db.escalations import queries as repo
from db.orders.story import escalation_item
from workflows.escalation.types import AcknowledgeInput
from workflows.escalation.workflow import EscalationWorkflow

router = APIRouter()


def _since(value: str | None) -> datetime | None:
    try:
        stamp = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _common(known: Known | None = None) -> dict[str, Any]:
    return {"now": datetime.now(UTC), "codes": RESOLUTION_CODES, "text_max": TEXT_MAX,
            "assignee_max": ASSIGNEE_MAX, "reason_max": REASON_MAX,
            "known": known, "subject_of": _subject}


def _subject(subject: str) -> tuple[str, str] | None:
    """("claim", id) for "claim:ID", likewise complaints; None when the order itself breached."""
    kind, _, ident = subject.partition(":")
    return (kind, ident) if ident else None


@dataclass(frozen=True)
class LadderRow:
    """One ladder step on the escalation's page: its sentence as the order's story says it."""

    level: int
    type: str
    actor: str
    occurred: str
    sentence: str
    texts: tuple[str, ...]


def _queue_context(session: Session, page: Page, flt: QueueFilter,
                   since: datetime | None) -> dict[str, Any]:
    known = known_to(session, page.user)
    found = rows(session, flt, known, since)
    stamp = since or datetime.now(UTC)
    # The forms in the rows come back to the queue as filtered, whether the rows came with
    # the page or with a later poll; the poll marks rows opened since the page was loaded.
    return {"rows": found, "limit": QUEUE_LIMIT, "back": flt.url(), "flt": flt,
            "rows_url": f"/console/escalations/rows?"
                        f"{urlencode({**flt.query(), 'since': stamp.isoformat()})}",
            **_common(known)}


def _queue_page(session: Session, page: Page, flt: QueueFilter, outcome: Outcome,
                status: int = 200) -> Response:
    ctx = _queue_context(session, page, flt, None)
    return page.render("escalations.html", status=status, kinds=KINDS, stages=STAGES,
                       page_url=flt.url(),
                       levels=levels_of(ctx["known"].ladders), states=STATES, views=VIEWS,
                       poll_seconds=POLL_SECONDS, outcome=outcome, **ctx)


@router.get("/escalations", response_class=HTMLResponse)
def queue(page: PageDep, session: SessionDep, state: str | None = None,
          view: str | None = None, level: str | None = None, stage: str | None = None,
          kind: str | None = None, assignee: str | None = None, done: str | None = None,
          esc: str | None = None, focus: str | None = None, n: str | None = None,
          failed: str | None = None) -> Response:
    page.signed_in()
    params = {k: v for k, v in (("state", state), ("view", view), ("level", level),
                                ("stage", stage), ("kind", kind), ("assignee", assignee),
                                ("done", done), ("esc", esc), ("focus", focus), ("n", n),
                                ("failed", failed)) if v is not None}
    return _queue_page(session, page, QueueFilter.parse(params), outcome_of(params))


# Declared before /escalations/{escalation_id}, which would otherwise claim "rows".
@router.get("/escalations/rows", response_class=HTMLResponse)
def queue_rows(page: PageDep, session: SessionDep, state: str | None = None,
               view: str | None = None, level: str | None = None, stage: str | None = None,
               kind: str | None = None, assignee: str | None = None,
               since: str | None = None) -> Response:
    """Just the queue, for the page's poller; 401 (and the page reloads to sign in) when the
    session has ended."""
    if page.user is None:
        return Response(status_code=401, headers=pages.security_headers(page.viewer.locale))
    params = {k: v for k, v in (("state", state), ("view", view), ("level", level),
                                ("stage", stage), ("kind", kind), ("assignee", assignee))
              if v is not None}
    ctx = _queue_context(session, page, QueueFilter.parse(params), _since(since))
    return page.render("_esc_queue.html", outcome=Outcome(), **ctx)


def _detail(page: Page, session: Session, escalation_id: str, status: int = 200,
            outcome: Outcome | None = None) -> Response:
    row = repo.get_escalation(session, escalation_id)
    if row is None:
        return page.message(404, "esc.not_found")
    known = known_to(session, page.user)
    subject = repo.subjects(session, [row])[row.id]
    waiver = repo.last_steps(session, [row.id], "waived").get(row.id)
    item = queue_row(row, subject.customer_name, ladder_of(subject.ladder), datetime.now(UTC),
                     waiver=(waiver.detail or {}).get("reason") if waiver else None)
    ladder = [(step.level, story.row(page.viewer, escalation_item(step, row.kind, row.subject)))
              for step in repo.history(session, escalation_id)]
    return page.render("escalation.html", status=status, esc=row, row=item,
                       page_url=f"/console/escalations/{quote(escalation_id)}",
                       outcome=outcome or Outcome(),
                       ladder_rows=[LadderRow(level, r.type, r.actor, r.occurred, r.sentence,
                                              r.texts) for level, r in ladder],
                       back=f"/console/escalations/{quote(escalation_id)}", **_common(known))


@router.get("/escalations/{escalation_id}", response_class=HTMLResponse)
def detail(escalation_id: str, page: PageDep, session: SessionDep, done: str | None = None,
           n: str | None = None) -> Response:
    page.signed_in()
    params = {"done": done, "n": n} if done else {}
    return _detail(page, session, escalation_id,
                   outcome=outcome_of({k: v for k, v in params.items() if v is not None}))


def _queue_of(back: str) -> QueueFilter | None:
    """The queue's filter when `back` is the queue; None for an escalation's page."""
    parts = urlsplit(back)
    if parts.path != "/console/escalations":
        return None
    return QueueFilter.parse(dict(parse_qsl(parts.query)))


def _after(session: Session, page: Page, flt: QueueFilter, escalation_id: str) -> str | None:
    """The row after this one in the queue as the viewer sees it (else the one before): where
    focus goes once this one is dealt with."""
    ids = [r.esc.id for r in rows(session, flt, known_to(session, page.user))]
    if escalation_id not in ids:
        return ids[0] if ids else None
    i = ids.index(escalation_id)
    return ids[i + 1] if i + 1 < len(ids) else (ids[i - 1] if i else None)


def _error_key(page: Page, exc: ApiError) -> str:
    key = f"esc.error.{exc.code}"
    return key if key in catalogue(page.viewer.locale) else "esc.error.rejected"


def _error_values(page: Page, exc: ApiError) -> dict[str, Any]:
    """What the refusal's message names: the snooze limit, the late step."""
    d = exc.details
    values: dict[str, Any] = {}
    if d.get("latest"):
        latest = datetime.fromisoformat(str(d["latest"]))
        values["latest"] = page.viewer.time(latest)
        values["limit"] = page.viewer.duration((latest - datetime.now(UTC)).total_seconds())
    if d.get("step"):
        values["step"] = page.viewer.code("esc.late", str(d["step"]))
    return values


def _refused(session: Session, page: Page, back: str, escalation_id: str, status: int,
             outcome: Outcome) -> Response:
    """The page the form came from again, with the refusal and what was typed."""
    flt = _queue_of(back)
    if flt is None:
        return _detail(page, session, escalation_id, status, outcome)
    return _queue_page(session, page, flt, outcome, status)


@router.post("/escalations/acknowledge-selected", response_class=HTMLResponse)
async def acknowledge_selected(page: PageDep, db: DbDep, temporal: TemporalDep) -> Response:
    """Bulk acknowledge from the queue: each picked escalation in turn; those already
    acknowledged or resolved meanwhile are counted, not an error."""
    user = page.allow("escalation")
    form = await page.form(max_fields=QUEUE_LIMIT + 5)
    back = back_of(form, None)
    picked = [k[len(BULK_PREFIX):] for k, v in form.items()
              if k.startswith(BULK_PREFIX) and v == "yes"]
    flt = _queue_of(back) or QueueFilter()
    if not picked:
        return await db.run(_queue_page, page, flt, Outcome(error="esc.error.none_picked"), 422)
    done = failed = 0
    for escalation_id in picked:
        try:
            await actions.act(db, temporal, page.settings, escalation_id,
                              EscalationWorkflow.acknowledge, AcknowledgeInput(actor=user.name))
            done += 1
        except ApiError as exc:
            if exc.status == 503:
                return page.message(503, "unavailable")
            failed += 1
    return RedirectResponse(done_url(back, "acknowledge_many", "", None, n=done,
                                      failed=failed), 303)


@router.post("/escalations/{escalation_id}/{action}", response_class=HTMLResponse)
async def act(escalation_id: str, action: str, page: PageDep, db: DbDep,
              temporal: TemporalDep) -> Response:
    user = page.allow("escalation")
    form = await page.form()
    if action not in ACTIONS:
        return page.message(404, "esc.not_found")
    back = back_of(form, escalation_id)
    kept = Outcome(esc_id=escalation_id, action=action, typed=typed(form))
    update = update_for(action, form, user.name, page.viewer.zone)
    if isinstance(update, str):
        kept.error = update
        return await db.run(_refused, page, back, escalation_id, 422, kept)
    if action == "reassign":
        known = await db.run(known_to, page.user)
        if update[1].assignee not in known.names():
            kept.error = "esc.error.unknown_assignee"
            return await db.run(_refused, page, back, escalation_id, 422, kept)
    flt = _queue_of(back)
    # Focus goes to the row after this one as the viewer saw the queue (acknowledged or
    # resolved, this row moves or leaves); after a reassign or snooze it stays on this row.
    focus = None
    if flt is not None:
        focus = (await db.run(_after, page, flt, escalation_id)
                 if action in ("acknowledge", "resolve") else escalation_id)
    try:
        await actions.act(db, temporal, page.settings, escalation_id, *update)
    except ApiError as exc:
        if exc.status == 404:
            return page.message(404, "esc.not_found")
        if exc.status == 503:
            return page.message(503, "unavailable")
        kept.error, kept.values = _error_key(page, exc), _error_values(page, exc)
        return await db.run(_refused, page, back, escalation_id, exc.status, kept)
    return RedirectResponse(done_url(back, action, escalation_id, focus), 303)
