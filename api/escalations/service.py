"""Acting on an escalation: one update on its workflow, whose validator decides (one cannot
resolve what is resolved). Shared by the API router and the console, so both refuse alike."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.edge.deadline import temporal_deadline
from api.edge.units import Db
from api.errors import found
from api.events.rejections import as_api_error, rejected
from config import Settings
from db.escalations import queries as repo
from db.escalations.models import EscalationRow


def load(session: Session, escalation_id: str) -> EscalationRow:
    return found(repo.get_escalation(session, escalation_id), "escalation", "escalation_id",
                 escalation_id)


async def act(db: Db, client: Client, settings: Settings, escalation_id: str,
              update: Any, arg: Any) -> None:
    """Run `update` with `arg` (the caller reads the row back). ApiError on a refusal."""
    row = await db.run(load, escalation_id)
    if row.state == "resolved":
        raise rejected("already_resolved", "the escalation is already resolved",
                       escalation_id=escalation_id, resolved_by=row.resolved_by)
    handle = client.get_workflow_handle(escalation_id)
    try:
        async with temporal_deadline(settings):
            await handle.execute_update(
                update, arg, rpc_timeout=timedelta(seconds=settings.update_timeout_seconds))
    except WorkflowUpdateFailedError as exc:
        raise as_api_error(exc) or exc from exc.cause
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        raise rejected("already_resolved", "the escalation is already resolved",
                       escalation_id=escalation_id) from exc
