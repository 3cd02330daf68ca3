"""The audit checkpoint, every 15 minutes (schedules.py): the heads of the chains that moved
since the last one, signed (db/audit/queries.py `seal`)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.audit.checkpoint import CHECKPOINT_TIMEOUT, CheckpointActivities
    from workflows.audit.types import CheckpointInput, CheckpointResult


@workflow.defn
class AuditCheckpointWorkflow:
    @workflow.run
    async def run(self, inp: CheckpointInput) -> CheckpointResult:
        return await workflow.execute_activity_method(
            CheckpointActivities.seal_checkpoint, inp, start_to_close_timeout=CHECKPOINT_TIMEOUT)
