"""The escalation forms: what a posted form asks of the workflow, where the browser goes back
to afterwards, and what the page then says (done, or refused with what was typed kept)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from console.escalations.triage import ASSIGNEE_MAX
from workflows.escalation.types import AcknowledgeInput, ReassignInput, ResolveInput, SnoozeInput
from workflows.escalation.workflow import EscalationWorkflow

TEXT_MAX = 2000
REASON_MAX = 500  # as the API's waiver reason
# Offered in the resolve form; the API takes any code of this shape.
RESOLUTION_CODES = ("customer_informed", "carrier_rescheduled", "warehouse_expedited",
                    "false_alarm", "other")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ACTIONS = ("acknowledge", "resolve", "reassign", "snooze")
BULK_PREFIX = "pick:"  # the queue's checkboxes: pick:<escalation id>


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


def outcome_of(params: dict[str, str]) -> Outcome:
    done = params.get("done")
    if done not in (*ACTIONS, "acknowledge_many"):
        return Outcome()
    values = {"count": params.get("n", "0"), "failed": params.get("failed", "0")}
    return Outcome(done=f"esc.done.{done}", values=values, esc_id=params.get("esc"),
                   focus=params.get("focus"))


def _until(value: str, zone: str) -> datetime | None:
    """A datetime-local field, read in the viewer's zone."""
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def update_for(action: str, form: dict[str, str], actor: str,
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


def back_of(form: dict[str, str], escalation_id: str | None) -> str:
    """Where the form came from: the queue (as filtered) or an escalation's page; nothing
    else (no open redirect)."""
    back = form.get("next", "")
    if back.startswith("/console/escalations") and "//" not in back and "\\" not in back:
        return back
    return f"/console/escalations/{quote(escalation_id)}" if escalation_id \
        else "/console/escalations"


def done_url(back: str, action: str, escalation_id: str, focus: str | None,
              **extra: Any) -> str:
    parts = urlsplit(back)
    params = [(k, v) for k, v in parse_qsl(parts.query)
              if k not in ("done", "esc", "focus", "n", "failed")]
    params += [("done", action), ("esc", escalation_id)]
    params += [(k, str(v)) for k, v in extra.items()]
    if focus:
        params.append(("focus", focus))
    # The row (or the message) as the #fragment, so the page opens there; a browser skips
    # `autofocus` on a page opened at a fragment, so static/console/esc.js moves focus there.
    anchor = f"#esc-{focus}" if focus else "#done"
    return f"{parts.path}?{urlencode(params)}{anchor}"


def typed(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in ("csrf", "next")}
