"""What the order page shows beyond progress and timeline: quantities per line, proof of
delivery, receipt versions, the follow-up, claims and complaints, a pending decision and
delivery exceptions; and which action forms the viewer's role and the order's stage allow,
among them the generic "record event" forms of the event types that declare one
(workflows/order/event_data.py EVENTS `form`; posted to console/orders/record.py)."""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ValidationError
from sqlalchemy.orm import Session

from api.orders.events import EVENT_BODIES
from api.orders.read_model import detail_of, lines_of
from api.receipts.views import receipt_versions
from console.session import ConsoleUser
from db.claims import queries as claim_repo
from db.complaints import queries as complaint_repo
from db.orders.models import Order
from kpis.report_words import in_survey_order
from policies import from_snapshot
from workflows.claim.types import ClaimState
from workflows.complaint.types import ComplaintStep
from workflows.order.event_data import EVENTS
from workflows.order.types import (
    AFTER_DELIVERY,
    BEFORE_SHIPMENT,
    EventType,
    FollowUpStatus,
    Stage,
)
from workflows.policy import ComplaintPolicy

LINE_COLUMNS = ("ordered", "agreed", "picked", "shipped", "delivered")
_RELATED_LIMIT = 50
# A call may still be recorded: the survey is not yet answered nor given up.
OPEN_FOLLOW_UP = frozenset({FollowUpStatus.PENDING, FollowUpStatus.DUE})


def low_score_max(order: Order) -> int:
    """The score at or below which the order's policy calls an answer low (and opens a
    complaint): the same line for the page's highlight as for the workflow."""
    try:
        return from_snapshot(order.sla_policy_snapshot).complaints.low_score_max
    except ValidationError:  # an old or partial snapshot: the policies' default
        return ComplaintPolicy().low_score_max


def scores(survey: Any, order: Order) -> list[dict[str, Any]]:
    """The survey's scores in the survey's order (as everywhere: shared/survey.py), each
    marked low or not."""
    given = getattr(survey, "scores", None) or {}
    low = low_score_max(order)
    return [{"question": q, "score": s, "low": isinstance(s, int) and s <= low}
            for q, s in in_survey_order(given)]


def alerts(detail: Any, claims: list[Any], complaints: list[Any]) -> dict[str, Any]:
    """What the order's header must say before anything else (issue 18 §6): goods that did
    not arrive intact, and the claims and complaints still open."""
    delivery = detail.delivery
    condition = getattr(delivery, "condition", None)
    return {"bad_condition": condition if condition and condition != "intact" else None,
            "open_claims": [c for c in claims if c.state == ClaimState.OPEN],
            "open_complaints": [c for c in complaints if c.step != ComplaintStep.CLOSED]}


def details(session: Session, order: Order) -> dict[str, Any]:
    detail = detail_of(order)
    claims = claim_repo.list_claims(
        session, claim_repo.ClaimFilter(order_id=order.order_id), _RELATED_LIMIT, None)
    complaints = complaint_repo.list_complaints(
        session, complaint_repo.ComplaintFilter(order_id=order.order_id), _RELATED_LIMIT, None)
    return {
        "lines": lines_of(order),
        "line_columns": LINE_COLUMNS,
        "delivery": detail.delivery,
        "receipts": receipt_versions(detail.receipt),
        "follow_up": detail.survey,
        "decision": detail.decision,
        "decisions": detail.decisions,
        "exceptions": detail.exceptions,
        "cancel_reason": detail.cancel_reason,
        "claims": claims,
        "complaints": complaints,
        "scores_given": scores(detail.survey, order),
        **alerts(detail, claims, complaints),
    }


def offered(user: ConsoleUser | None, order: Order) -> dict[str, bool]:
    """Which action forms to show; each handler checks the role again on post."""
    stage = Stage(order.stage)
    survey = detail_of(order).survey

    def can(action: str) -> bool:
        return user is not None and user.can(action)

    return {
        "confirm": can("order.confirm") and stage == Stage.RECEIVED,
        # until the goods leave; after that the workflow refuses it anyway
        "cancel": can("order.cancel") and stage in BEFORE_SHIPMENT,
        "call": can("order.follow_up_call") and stage in AFTER_DELIVERY
        and survey is not None and survey.status in OPEN_FOLLOW_UP,
        "receipt": can("order.receipt_upload") and stage in AFTER_DELIVERY,
    }


@dataclass(frozen=True)
class FormInput:
    """One input of an event's console form, from its data class field's type: `kind` is
    text, time (in the viewer's zone), choice (`choices`, worded from the `options` catalogue
    group), yes_no or number."""

    name: str
    kind: str
    required: bool
    choices: tuple[str, ...] = ()
    options: str | None = None


def _input(name: str, hint: Any, required: bool, options: str | None) -> FormInput:
    while get_origin(hint) in (Union, types.UnionType, Annotated):
        hint = next(a for a in get_args(hint) if a is not type(None))
    if get_origin(hint) is Literal:
        return FormInput(name, "choice", required, tuple(map(str, get_args(hint))), options)
    kinds = {datetime: "time", AwareDatetime: "time", bool: "yes_no", int: "number"}
    return FormInput(name, kinds.get(hint, "text"), required)


def form_inputs(event_type: EventType) -> list[FormInput]:
    """The inputs of `event_type`'s console form, in its declaration's order, typed as the API's
    body for the event takes them (written by hand, or derived from the data class)."""
    data = EVENT_BODIES[event_type].model_fields["data"].annotation
    fields = data.model_fields if isinstance(data, type) and issubclass(data, BaseModel) else {}
    return [_input(name, fields[name].annotation, fields[name].is_required(), form_field.options)
            for name, form_field in EVENTS[event_type].form.items()]


def record_forms(user: ConsoleUser | None, order: Order) -> list[dict[str, Any]]:
    """The "record event" forms to show: event types that declare a console form, which the
    viewer's role may post and the order's stage takes (the workflow checks again)."""
    stage = Stage(order.stage)
    return [{"type": t.value, "inputs": form_inputs(t)} for t, spec in EVENTS.items()
            if spec.form and user is not None and user.may(f"order.event.{t.value}")
            and stage in spec.allowed_in]
