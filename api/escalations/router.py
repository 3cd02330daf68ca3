"""Escalations: the queue, one ladder's history, and what operators do about them.

Actions are updates on the escalation's workflow, so its validator decides (one cannot resolve
what is resolved); each records the actor (the API key's name) and an optional comment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import Principal, SessionDep, SettingsDep, TemporalDep, require
from api.edge.units import Db, DbDep
from api.escalations import service as actions
from api.escalations.schemas import EscalationPage, EscalationView
from api.orders.views import escalation_view
from api.schemas import Strict, instant
from config import Settings
from db.escalations import queries as repo
from db.escalations.models import EscalationRow
from workflows.escalation.types import AcknowledgeInput, ReassignInput, ResolveInput, SnoozeInput
from workflows.escalation.workflow import EscalationWorkflow

router = APIRouter(prefix="/v1/escalations", tags=["escalations"])

Staff = Annotated[Principal, Depends(require("escalation.read"))]
Acknowledger = Annotated[Principal, Depends(require("escalation.acknowledge"))]
Resolver = Annotated[Principal, Depends(require("escalation.resolve"))]
Reassigner = Annotated[Principal, Depends(require("escalation.reassign"))]
Snoozer = Annotated[Principal, Depends(require("escalation.snooze"))]
WAIVER_REASON_MAX = 500

class _Action(Strict):
    comment: str | None = Field(default=None, max_length=2000)


class AcknowledgeBody(_Action):
    pass


class ResolveBody(_Action):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$",
                      examples=["customer_informed", "carrier_rescheduled"])
    text: str = Field(min_length=1, max_length=2000)
    waive: bool = Field(default=False, description=(
        "Resolve although the late step is still not done (else 409 condition_still_holds, "
        "naming the step). Recorded with `reason`; the escalation re-opens when the level's "
        "resolve time has passed and the step is still not done."))
    reason: str | None = Field(default=None, max_length=WAIVER_REASON_MAX,
                               description="Why the step is waived; required with `waive`.")


class ReassignBody(_Action):
    assignee: str = Field(min_length=1, max_length=120)


class SnoozeBody(_Action):
    until: AwareDatetime
    _until = field_validator("until")(instant)


class StepView(BaseModel):
    seq: int
    at: datetime
    action: str
    level: int
    actor: str
    comment: str | None = None
    detail: dict[str, Any]


class EscalationDetail(EscalationView):
    history: list[StepView]


def _load(session: Session, escalation_id: str) -> EscalationRow:
    return actions.load(session, escalation_id)


def _detail(session: Session, row: EscalationRow) -> EscalationDetail:
    history = [StepView.model_validate(e, from_attributes=True)
               for e in repo.history(session, row.id)]
    return EscalationDetail(**escalation_view(row).model_dump(), history=history)


@router.get("", response_model=EscalationPage,
            description="The queue: newest first, the higher level first among equals.")
def list_escalations(
    _: Staff, session: SessionDep,
    state: Literal["open", "resolved"] | None = None,
    level: int | None = Query(default=None, ge=1, le=9),
    stage: str | None = None,
    kind: str | None = None,
    customer_id: str | None = None,
    tier: Literal["standard", "key_account"] | None = None,
    assignee: str | None = None,
    order_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=500),
) -> EscalationPage:
    flt = repo.EscalationFilter(state=state, level=level, stage=stage, kind=kind,
                                customer_id=customer_id, tier=tier, assignee=assignee,
                                order_id=order_id)
    return EscalationPage(items=[escalation_view(r) for r in repo.list_escalations(
        session, flt, limit)])


@router.get("/{escalation_id}", response_model=EscalationDetail,
            description="One escalation with its whole ladder history: who was told what, "
                        "when, and who did what.")
def get_escalation(escalation_id: str, _: Staff, session: SessionDep) -> EscalationDetail:
    return _detail(session, _load(session, escalation_id))


async def _act(db: Db, client: Client, settings: Settings, escalation_id: str,
               update: Any, arg: Any) -> EscalationDetail:
    await actions.act(db, client, settings, escalation_id, update, arg)
    return await db.run(lambda session: _detail(session, _load(session, escalation_id)))


@router.post("/{escalation_id}/acknowledge", response_model=EscalationDetail)
async def acknowledge(escalation_id: str, body: AcknowledgeBody, who: Acknowledger,
                      db: DbDep, client: TemporalDep,
                      settings: SettingsDep) -> EscalationDetail:
    return await _act(db, client, settings, escalation_id,
                      EscalationWorkflow.acknowledge,
                      AcknowledgeInput(actor=who.name, comment=body.comment))


@router.post("/{escalation_id}/resolve", response_model=EscalationDetail,
             description="While the escalation is open its late step is not done: resolving "
                         "needs `waive: true` and a `reason` (409 `condition_still_holds` "
                         "otherwise; 422 `waiver_reason_required` without a reason).")
async def resolve(escalation_id: str, body: ResolveBody, who: Resolver, db: DbDep,
                  client: TemporalDep, settings: SettingsDep) -> EscalationDetail:
    return await _act(db, client, settings, escalation_id,
                      EscalationWorkflow.resolve,
                      ResolveInput(actor=who.name, code=body.code, text=body.text,
                                   comment=body.comment, waive=body.waive,
                                   reason=(body.reason or "").strip() or None))


@router.post("/{escalation_id}/reassign", response_model=EscalationDetail)
async def reassign(escalation_id: str, body: ReassignBody, who: Reassigner, db: DbDep,
                   client: TemporalDep, settings: SettingsDep) -> EscalationDetail:
    return await _act(db, client, settings, escalation_id,
                      EscalationWorkflow.reassign,
                      ReassignInput(actor=who.name, assignee=body.assignee,
                                    comment=body.comment))


@router.post("/{escalation_id}/snooze", response_model=EscalationDetail,
             description="Hold the ladder until `until`, at most the policy's `snooze_max` "
                         "from now; the level's clock restarts when the snooze ends.")
async def snooze(escalation_id: str, body: SnoozeBody, who: Snoozer, db: DbDep,
                 client: TemporalDep, settings: SettingsDep) -> EscalationDetail:
    return await _act(db, client, settings, escalation_id,
                      EscalationWorkflow.snooze,
                      SnoozeInput(actor=who.name, until=body.until, comment=body.comment))
