"""Whose queue it is: the triage queue's filter and views (all open, mine, my team,
unassigned, resolved), who one may assign to, and its rows in urgency order.

"Mine" is assigned to the signed-in key's name; "my team" to the key's team (its `--team`, else
its role's name, as the in-app inbox reads it) or one of that team's people, or unassigned
while the ladder tells that team. People are the operator, supervisor and admin keys' names;
teams are those keys' teams and the recipients the policies' ladders name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from console.board.view import STAGES
from console.escalations.queue import QueueRow, ladder_of, queue_row, urgency
from console.session import ConsoleUser
from db.escalations import queries as repo
from db.keys.queries import get_key
from db.policies.queries import all_latest, as_policy
from policies import DEFAULT_LADDER
from policies.durations import parse_duration
from workflows.escalation.workflow import KEY_ACCOUNT_MANAGER
from workflows.order.types import BreachKind

QUEUE_LIMIT = 200
ASSIGNEE_MAX = 120
KINDS = [k.value for k in BreachKind]
STATES = ("open", "resolved")
VIEWS = ("all", "mine", "team", "unassigned")
# The roles that act on escalations: their keys' names are the people one can assign to.
STAFF_ROLES = ("operator", "supervisor", "admin")


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
        state, view = params.get("state") or "", params.get("view") or ""
        return cls(state=state if state in STATES else "open",
                   view=view if view in VIEWS else "all",
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


def known_to(session: Session, user: ConsoleUser | None) -> Known:
    staff = repo.staff(session, STAFF_ROLES)
    ladders = [p.escalation for p in (as_policy(r) for r in all_latest(session))
               if p.escalation is not None]
    if not ladders:  # no policy stored yet: the ladder a policy gets when it names none
        default = ladder_of(DEFAULT_LADDER_SECONDS)
        ladders = [default] if default is not None else []
    teams = {team for _, team in staff}
    for ladder in ladders:
        for level in ladder.levels:
            teams.update(n for n in level.recipients if n != KEY_ACCOUNT_MANAGER)
    known = Known(users=sorted({name for name, _ in staff}), teams=sorted(teams), ladders=ladders)
    if user is not None:
        key = get_key(session, user.key_id)
        known.me = user.name
        known.my_team = key.team if key is not None and key.team else user.role.value
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


def rows(session: Session, flt: QueueFilter, known: Known,
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
