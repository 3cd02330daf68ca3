"""What the claims pages show: the filtered queue, and one claim with its steps and their
due times, documents, compensation, escalations, timeline and the forms its next step takes.

Which forms a viewer gets: their role may send the event (the permission table, through
`user.may`) and the claim awaits that step; the claim's workflow checks both again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from api.claims.schemas import ContactData
from console.cases import filters as case_filters
from console.cases import timeline
from console.cases.forms import Failed, listed, money
from console.i18n import Viewer
from console.session import ConsoleUser
from db.claims import queries as repo
from db.claims.models import ClaimRow
from db.escalations import subjects
from db.orders import queries as order_repo
from db.orders.story import StoryKind
from policies import from_snapshot
from workflows.claim.compensation import compensation_cap
from workflows.claim.types import (
    EVIDENCE_KINDS,
    Basis,
    ClaimStep,
    DocumentKind,
    Liability,
)
from workflows.policy import ClaimPolicy

STEPS = tuple(s.value for s in ClaimStep)
# The steps a claim walks, as its page lists them (closing is its state, not a step to do).
WALKED = tuple(s for s in STEPS if s != ClaimStep.CLOSED.value)
CHANNELS: tuple[str, ...] = get_args(ContactData.model_fields["channel"].annotation)
LIABILITIES = tuple(v.value for v in Liability)
DOC_KINDS = tuple(k.value for k in DocumentKind)
EVIDENCE = tuple(sorted(k.value for k in EVIDENCE_KINDS))
# Each step's form: the event that completes it.
STEP_FORMS = {
    ClaimStep.CUSTOMER_CONTACTED.value: "customer_contacted",
    ClaimStep.LIABILITY_DECIDED.value: "liability_decided",
    ClaimStep.COMPENSATION_SET.value: "compensation_set",
    ClaimStep.PAYOUT_ISSUED.value: "payout_issued",
}
ACTIONS = ("customer_contacted", "liability_decided", "compensation_set", "payout_issued",
           "withdrawn", "note", "basis_set")


# -- the queue --------------------------------------------------------------------------------


def list_context(session: Session, params: QueryParams) -> dict[str, Any]:
    """The claims the filters pick (console/cases/filters.py `page_of` says in what order),
    each with its open escalations (level, assignee)."""
    chosen = case_filters.parse(params, STEPS)
    now = datetime.now(UTC)
    flt = repo.ClaimFilter(
        state=chosen.state or None, step=chosen.step or None,
        customer_id=chosen.customer or None, tier=chosen.tier or None,
        overdue_at=now if chosen.overdue else None, assignee=chosen.assignee or None)
    page, next_cursor, capped = case_filters.page_of(
        lambda limit, after, urgent: repo.list_claims(session, flt, limit, after, urgent),
        chosen, params)
    return {"claims": page, "next_cursor": next_cursor, "capped": capped,
            "filters": chosen, "filtered": bool(params), "now": now,
            "urgent_max": case_filters.URGENT_MAX,
            "escalations": subjects.open_for(session, "claim", [r.id for r in page]),
            "assignees": subjects.assignees(session, "claim"),
            "states": case_filters.STATES, "steps": STEPS, "tiers": case_filters.TIERS}


def overdue(row: ClaimRow, now: datetime) -> bool:
    return row.state == "open" and row.due_at is not None and row.due_at < now


# -- one claim --------------------------------------------------------------------------------


def _policy(session: Session, order_id: str) -> ClaimPolicy:
    order = order_repo.get_order(session, order_id)
    if order is None:  # cannot happen: a claim is opened on an order
        return ClaimPolicy()
    return from_snapshot(order.sla_policy_snapshot).claims


def steps_of(row: ClaimRow, now: datetime) -> list[dict[str, Any]]:
    deadlines = (row.detail or {}).get("deadlines") or {}
    out = []
    for step in WALKED:
        done = row.opened_at if step == ClaimStep.OPENED.value \
            else getattr(row, repo.STEP_COLUMNS[step])
        due = deadlines.get(step)
        due_at = datetime.fromisoformat(due) if isinstance(due, str) else due
        out.append({"step": step, "due_at": due_at, "done_at": done,
                    "current": row.awaiting == step,
                    "late": row.awaiting == step and due_at is not None and due_at < now})
    return out


def standard(viewer: Viewer, row: ClaimRow, policy: ClaimPolicy) -> str | None:
    """The compensation standard the claim's liability and recorded basis give, in words."""
    cap, basis = compensation_cap(
        policy, Liability(row.liability) if row.liability else None,
        Basis(weight_kg=row.weight_kg, declared_value_minor=row.declared_value_minor))
    if cap is None or basis is None:
        return None
    return viewer.t("claims.standard", amount=money(viewer, cap, policy.currency),
                    basis=viewer.code("claims.cap_basis", basis))


def offered(user: ConsoleUser | None, row: ClaimRow) -> dict[str, bool]:
    """The forms to show: the viewer's role may send the event, and the claim takes it now."""
    def may(action: str) -> bool:
        return user is not None and user.may(action)

    open_ = row.state == "open"
    forms = {action: open_ and may(f"claim.event.{action}") for action in ACTIONS}
    for step, action in STEP_FORMS.items():
        forms[action] = forms[action] and row.awaiting == step
    forms["basis_set"] = forms["basis_set"] and row.awaiting in (
        ClaimStep.COMPENSATION_SET.value, ClaimStep.LIABILITY_DECIDED.value)
    forms["override"] = forms["compensation_set"] and may("claim.compensation.override")
    forms["upload"] = open_ and may("claim.document.upload")
    return forms


def claim_context(session: Session, viewer: Viewer, user: ConsoleUser | None, row: ClaimRow,
                  params: QueryParams, failed: Failed | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    detail = row.detail or {}
    policy = _policy(session, row.order_id)
    have = {d["kind"] for d in detail.get("documents") or []}
    done = params.get("done")
    missing = [k for k in EVIDENCE if k not in have]
    return {
        "missing_words": listed(viewer, [viewer.code("claims.doc_kind", k) for k in missing]),
        "claim": row, "detail": detail, "customer": detail.get("customer") or {},
        "now": now, "steps": steps_of(row, now), "late": overdue(row, now),
        "documents": detail.get("documents") or [],
        "missing": missing,
        "escalations": [{"row": e, "step": subjects.late_step(e)}
                        for e in subjects.all_for(session, "claim", row.id)],
        "offered": offered(user, row), "failed": failed,
        "done": done if done in (*ACTIONS, "document") else None,
        "standard": standard(viewer, row, policy), "currency": policy.currency,
        "amount": money(viewer, row.amount_minor, row.currency),
        "cap": money(viewer, row.cap_minor, row.currency) if row.cap_minor is not None
        else None,
        "channels": CHANNELS, "liabilities": LIABILITIES, "doc_kinds": DOC_KINDS,
        "evidence_kinds": EVIDENCE,
        **timeline.page_context(session, viewer, StoryKind.CLAIM, row.id,
                                params.getlist("kind")),
    }
