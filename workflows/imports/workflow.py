"""The bulk-import workflow (issue 19 §4): an uploaded file's orders created in batches.

Each batch is one activity that creates its orders through the API's own service and records
each order's outcome; the workflow only counts through the file. A batch retried by Temporal
skips the orders already recorded, so every order is created and reported once. History stays
small: a few events per batch, and the workflow continues as new every `batches_per_run`
batches (50; a 20,000-row file is at most 200 batches of 100).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.imports.batches import ImportActivities
    from workflows.imports.types import (
        FinishImportInput,
        ImportBatchInput,
        OrderImportInput,
        OrderImportResult,
    )

# A batch of 100 orders takes seconds; the heartbeat says it is alive in between.
BATCH_TIMEOUT = timedelta(minutes=10)
BATCH_HEARTBEAT = timedelta(seconds=60)
BATCH_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2),
                          maximum_interval=timedelta(minutes=1), maximum_attempts=20)
FINISH_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class OrderImportWorkflow:
    @workflow.run
    async def run(self, inp: OrderImportInput) -> OrderImportResult:
        start = inp.start
        try:
            for _ in range(inp.batches_per_run):
                if start >= inp.total:
                    break
                stop = min(start + inp.batch_size, inp.total)
                await workflow.execute_activity_method(
                    ImportActivities.import_batch,
                    ImportBatchInput(import_id=inp.import_id, start=start, stop=stop),
                    start_to_close_timeout=BATCH_TIMEOUT, heartbeat_timeout=BATCH_HEARTBEAT,
                    retry_policy=BATCH_RETRY)
                start = stop
        except ActivityError as exc:
            # Out of retries (the archive or the database gone for long): the page says so.
            await self._finish(inp.import_id, failed=True, error=str(exc.cause or exc))
            raise
        if start < inp.total:
            workflow.continue_as_new(OrderImportInput(
                import_id=inp.import_id, total=inp.total, batch_size=inp.batch_size,
                start=start, batches_per_run=inp.batches_per_run))
        await self._finish(inp.import_id)
        return OrderImportResult(import_id=inp.import_id, processed=start)

    async def _finish(self, import_id: str, failed: bool = False,
                      error: str | None = None) -> None:
        await workflow.execute_activity_method(
            ImportActivities.finish_import,
            FinishImportInput(import_id=import_id, failed=failed, error=error),
            start_to_close_timeout=FINISH_TIMEOUT)
