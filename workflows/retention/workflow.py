"""The daily personal-data retention run (schedules.py `waybill-personal-data-retention`,
issue 17 §6): one activity redacts, in bounded batches, what is due (db/personal/retention.py)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.retention.redact import RETENTION_TIMEOUT, RetentionActivities
    from workflows.retention.types import RetentionInput, RetentionResult


@workflow.defn
class PersonalDataRetentionWorkflow:
    @workflow.run
    async def run(self, inp: RetentionInput) -> RetentionResult:
        return await workflow.execute_activity_method(
            RetentionActivities.redact_due, inp, start_to_close_timeout=RETENTION_TIMEOUT)
