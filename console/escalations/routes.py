"""The escalations triage queue and one escalation's ladder; acknowledge (one or many),
resolve with a waiver, reassign and snooze from either, through the same workflow updates the
API runs (api/escalations/service.py).

After an action the browser is sent back where it came from with `?done=<action>` (a status
message in the viewer's language) and, from the queue, focus on the row that comes next; a
refusal re-renders that same page with the message and the typed values kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

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
from console.escalations.queue import QueueRow, ladder_of, levels_of, queue_row, urgency
from console.i18n import catalogue
from db.escalations import queries as repo
from db.keys.queries import get_key
from db.orders.story import escalation_item
from db.policies.queries import all_latest, as_policy
from policies import DEFAULT_LADDER
from policies.durations import parse_duration
from workflows.escalation.types import AcknowledgeInput, ReassignInput, ResolveInput, SnoozeInput
from workflows.escalation.workflow import KEY_ACCOUNT_MANAGER, EscalationWorkflow
from workflows.order.types import BreachKind

router = APIRouter()
QUEUE_LIMIT = 200
TEXT_MAX = 2000
ASSIGNEE_MAX = 120
REASON_MAX = 500  # as the API's waiver reason
KINDS = [k.value for k in BreachKind]
STATES = ("open", "resolved")
VIEWS = ("all", "mine", "team", "unassigned")
# The roles that act on escalations: their keys' names are the people one can assign to.
STAFF_ROLES = ("operator", "supervisor", "admin")
# Offered in the resolve form; the API takes any code of this shape.
RESOLUTION_CODES = ("customer_informed", "carrier_rescheduled", "warehouse_expedited",
                    "false_alarm", "other")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ACTIONS = ("acknowledge", "resolve", "reassign", "snooze")
_BULK_PREFIX = "pick:"  # the queue's checkboxes: pick:<escalation id>


@dataclass
class QueueFilter:
    state: str = "open"
    view: str = "all"
    level: int | None = None
    stage: str | None = None
    kind: str | None = None
    assignee: str | None = None

    @classmethod
    def parse(cls, params: dict[str, str]) -> QueueFilter:
        """Unknown values are dropped, not refused: a stale bookmark still opens the queue."""
        level = params.get("level") or ""
        return cls(state=params.get("state") if params.get("state") in STATES else "open",
                   view=params.get("view") if params.get("view") in VIEWS else "all",
                   level=int(level) if level.isdigit() and 0 < int(level) < 100 else None,
                   stage=params.get("stage") if params.get("stage") in STAGES else None,
                   kind=params.get("kind") if params.get("kind") in KINDS else None,
                   assignee=(params.get("assignee") or "").strip()[:ASSIGNEE_MAX] or None)

    def query(self, **changed: Any) -> dict[str, str]:
        values = {"state": self.state, "view": self.view, "level": self.level,
                  "stage": self.stage, "kind": self.kind, "assignee": self.assignee, **changed}
        return {k: str(v) for k, v in values.items()
                if v is not None and not (k == "view" and v == "all")}

    def url(self, **changed: Any) -> str:
        query = urlencode(self.query(**changed))
        return f"/console/escalations?{query}" if query else "/console/escalations"


@dataclass
class Known:
    """Whom one may assign to: the staff keys' names and the teams (the keys' teams and the
    recipients the policies' ladders name); the viewer's own name and team."""

    users: list[str]
    teams: list[str]
    ladders: list[Any]
    me: str = ""
    my_team: str = ""
    team_members: list[str] = field(default_factory=list)

    def names(self) -> set[str]:
        return set(self.users) | set(self.teams)


def _known(session: Session, page: Page) -> Known:
    staff = repo.staff(session, STAFF_ROLES)
    ladders = [p.escalation for p in (as_policy(r) for r in all_latest(session))
               if p.escalation is not None]
    default = ladder_of(DEFAULT_LADDER_SECONDS)
    if default is not None:
        ladders.append(default)
    teams = {team for _, team in staff}
    for ladder in ladders:
        for level in ladder.levels:
            teams.update(n for n in level.recipients if n != KEY_ACCOUNT_MANAGER)
    known = Known(users=sorted({name for name, _ in staff}), teams=sorted(teams), ladders=ladders)
    if page.user is not None:
        key = get_key(session, page.user.key_id)
        known.me = page.user.name
        known.my_team = (key.team if key is not None and key.team else page.user.role.value)
        known.team_members = sorted({name for name, team in staff if team == known.my_team})
    return known


def _default_ladder_seconds() -> dict[str, Any]:
    """policies/default_ladder.yaml with its durations in seconds, as a snapshot holds them."""
    return {"repeat_every": parse_duration(DEFAULT_LADDER["repeat_every"]),
            "snooze_max": parse_duration(DEFAULT_LADDER["snooze_max"]),
            "levels": [{"level": lv["level"], "recipients": lv["recipients"],
                        "ack_within": parse_duration(lv["ack_within"]),
                        "resolve_within": parse_duration(lv["resolve_within"])}
                       for lv in DEFAULT_LADDER["levels"]]}


DEFAULT_LADDER_SECONDS = _default_ladder_seconds()


def _filter_for(flt: QueueFilter, known: Known) -> repo.EscalationFilter:
    out = repo.EscalationFilter(state=flt.state, level=flt.level, stage=flt.stage,
                                kind=flt.kind, assignee=flt.assignee)
    if flt.view == "mine":
        out.assignee_in = (known.me,)
    elif flt.view == "team":
        # Assigned to the team or one of its people, or to nobody yet (kept below only when
        # the ladder tells this team now).
        out.assignee_in, out.or_unassigned = (known.my_team, *known.team_members), True
    elif flt.view == "unassigned":
        out.unassigned = True
    return out


def _rows(session: Session, flt: QueueFilter, known: Known,
          since: datetime | None = None) -> list[QueueRow]:
    found = repo.list_escalations(session, _filter_for(flt, known), QUEUE_LIMIT,
                                  soonest_first=flt.state == "open")
    if flt.view == "team":
        found = [r for r in found if r.assignee or known.my_team in (r.recipients or [])]
    subjects = repo.subjects(session, found)
    waivers = repo.last_steps(session, [r.id for r in found if r.state != "open"], "waived")
    now = datetime.now(UTC)
    rows = [queue_row(r, subjects[r.id].customer_name, ladder_of(subjects[r.id].ladder), now,
                      since, (waivers[r.id].detail or {}).get("reason") if r.id in waivers
                      else None)
            for r in found]
    if flt.state == "open":
        return sorted(rows, key=urgency)
    far = datetime.min.replace(tzinfo=UTC)
    return sorted(rows, key=lambda q: (q.esc.resolved_at.replace(tzinfo=UTC)
                                       if q.esc.resolved_at else far, q.esc.id), reverse=True)


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


@dataclass
class Outcome:
    """What the page says after an action: done (a success) or error, with its values; the
    escalation and the form the viewer was using (kept open with what they typed)."""

    done: str | None = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    esc_id: str | None = None
    action: str | None = None
    typed: dict[str, str] = field(default_factory=dict)
    focus: str | None = None


def _queue_context(session: Session, page: Page, flt: QueueFilter,
                   since: datetime | None) -> dict[str, Any]:
    known = _known(session, page)
    rows = _rows(session, flt, known, since)
    stamp = since or datetime.now(UTC)
    # The forms in the rows come back to the queue as filtered, whether the rows came with
    # the page or with a later poll; the poll marks rows opened since the page was loaded.
    return {"rows": rows, "limit": QUEUE_LIMIT, "back": flt.url(), "flt": flt,
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


def _outcome_of(params: dict[str, str]) -> Outcome:
    done = params.get("done")
    if done not in (*_ACTIONS, "acknowledge_many"):
        return Outcome()
    values = {"count": params.get("n", "0"), "failed": params.get("failed", "0")}
    return Outcome(done=f"esc.done.{done}", values=values, esc_id=params.get("esc"),
                   focus=params.get("focus"))


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
    return _queue_page(session, page, QueueFilter.parse(params), _outcome_of(params))


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
    known = _known(session, page)
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
                   outcome=_outcome_of({k: v for k, v in params.items() if v is not None}))


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
        reason = form.get("reason", "").strip()
        if not _CODE.match(code):
            return "esc.error.bad_code"
        if not text or len(text) > TEXT_MAX:
            return "esc.error.bad_text"
        if len(reason) > REASON_MAX:
            return "esc.error.bad_reason"
        return EscalationWorkflow.resolve, ResolveInput(
            actor=actor, code=code, text=text, comment=comment,
            waive=form.get("waive") == "yes", reason=reason or None)
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


def _back(form: dict[str, str], escalation_id: str | None) -> str:
    """Where the form came from: the queue (as filtered) or an escalation's page; nothing
    else (no open redirect)."""
    back = form.get("next", "")
    if back.startswith("/console/escalations") and "//" not in back and "\\" not in back:
        return back
    return f"/console/escalations/{quote(escalation_id)}" if escalation_id \
        else "/console/escalations"


def _queue_of(back: str) -> QueueFilter | None:
    """The queue's filter when `back` is the queue; None for an escalation's page."""
    parts = urlsplit(back)
    if parts.path != "/console/escalations":
        return None
    return QueueFilter.parse(dict(parse_qsl(parts.query)))


def _after(session: Session, page: Page, flt: QueueFilter, escalation_id: str) -> str | None:
    """The row after this one in the queue as the viewer sees it (else the one before): where
    focus goes once this one is dealt with."""
    ids = [r.esc.id for r in _rows(session, flt, _known(session, page))]
    if escalation_id not in ids:
        return ids[0] if ids else None
    i = ids.index(escalation_id)
    return ids[i + 1] if i + 1 < len(ids) else (ids[i - 1] if i else None)


def _done_url(back: str, action: str, escalation_id: str, focus: str | None,
              **extra: Any) -> str:
    parts = urlsplit(back)
    params = [(k, v) for k, v in parse_qsl(parts.query)
              if k not in ("done", "esc", "focus", "n", "failed")]
    params += [("done", action), ("esc", escalation_id)]
    params += [(k, str(v)) for k, v in extra.items()]
    if focus:
        params.append(("focus", focus))
    anchor = f"#esc-{focus}" if focus else "#done"
    return f"{parts.path}?{urlencode(params)}{anchor}"


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


def _typed(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in ("csrf", "next")}


@router.post("/escalations/acknowledge-selected", response_class=HTMLResponse)
async def acknowledge_selected(page: PageDep, db: DbDep, temporal: TemporalDep) -> Response:
    """Bulk acknowledge from the queue: each picked escalation in turn; those already
    acknowledged or resolved meanwhile are counted, not an error."""
    user = page.allow("escalation")
    form = await page.form(max_fields=QUEUE_LIMIT + 5)
    back = _back(form, None)
    picked = [k[len(_BULK_PREFIX):] for k, v in form.items()
              if k.startswith(_BULK_PREFIX) and v == "yes"]
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
    return RedirectResponse(_done_url(back, "acknowledge_many", "", None, n=done,
                                      failed=failed), 303)


@router.post("/escalations/{escalation_id}/{action}", response_class=HTMLResponse)
async def act(escalation_id: str, action: str, page: PageDep, db: DbDep,
              temporal: TemporalDep) -> Response:
    user = page.allow("escalation")
    form = await page.form()
    if action not in _ACTIONS:
        return page.message(404, "esc.not_found")
    back = _back(form, escalation_id)
    kept = Outcome(esc_id=escalation_id, action=action, typed=_typed(form))
    update = _update(action, form, user.name, page.viewer.zone)
    if isinstance(update, str):
        kept.error = update
        return await db.run(_refused, page, back, escalation_id, 422, kept)
    if action == "reassign":
        known = await db.run(_known, page)
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
    return RedirectResponse(_done_url(back, action, escalation_id, focus), 303)
