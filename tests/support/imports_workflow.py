"""The import workflow on a test server with a runner that records what it was asked to do
(the activities' injected seam): used by tests/workflows/imports/ and tests/record_histories.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.imports.batches import ImportActivities
from shared.sandbox import workflow_runner
from workflows.ids import import_workflow_id
from workflows.imports.types import ImportBatchResult, OrderImportInput, OrderImportResult
from workflows.imports.workflow import OrderImportWorkflow


class RecordingRunner:
    def __init__(self, fail_first: set[int] | None = None, refuse: bool = False) -> None:
        self.attempts: list[tuple[int, int]] = []
        self.finished: list[tuple[bool, str | None]] = []
        self._fail_first = set(fail_first or ())
        self._refuse = refuse

    async def import_batch(self, import_id: str, start: int, stop: int,
                           heartbeat: Callable[[int], None]) -> ImportBatchResult:
        self.attempts.append((start, stop))
        heartbeat(start)
        if self._refuse:
            raise ApplicationError("the archived file is gone", non_retryable=True)
        if start in self._fail_first:
            self._fail_first.discard(start)
            raise RuntimeError("database away for a moment")
        return ImportBatchResult(created=stop - start)

    async def finish(self, import_id: str, failed: bool, error: str | None) -> None:
        self.finished.append((failed, error))


async def run(env: WorkflowEnvironment, runner: RecordingRunner,
              total: int) -> WorkflowHandle[Any, OrderImportResult]:
    """Run an import of `total` orders to its end (batches of 2, 2 batches a run); its handle
    (tests/record_histories.py records its runs)."""
    queue = f"imports-{uuid.uuid4().hex[:8]}"
    activities = ImportActivities(runner)
    with ThreadPoolExecutor(2) as executor:
        async with Worker(env.client, task_queue=queue, workflows=[OrderImportWorkflow],
                          activities=[activities.import_batch, activities.finish_import],
                          activity_executor=executor, workflow_runner=workflow_runner()):
            handle = await env.client.start_workflow(
                OrderImportWorkflow.run,
                OrderImportInput(import_id="imp-1", total=total, batch_size=2,
                                 batches_per_run=2),
                id=import_workflow_id(f"imp-{uuid.uuid4().hex[:6]}"), task_queue=queue)
            await handle.result()
            return handle
