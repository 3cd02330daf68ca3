"""The import workflow on the time-skipping server: every order of the file in exactly one
batch across continue-as-new, a failed batch retried, the import finished once (done or
failed). The runner is the activities' injected seam (the real one is tested over HTTP in
tests/api/imports/); this one records what it was asked to do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
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


async def test_every_order_is_in_one_batch_across_runs_and_a_failed_batch_is_retried(
        ts_env: WorkflowEnvironment) -> None:
    runner = RecordingRunner(fail_first={2})
    handle = await run(ts_env, runner, total=7)
    assert runner.attempts == [(0, 2), (2, 4), (2, 4), (4, 6), (6, 7)]
    assert runner.finished == [(False, None)]
    assert (await handle.result()).processed == 7


async def test_an_import_that_cannot_go_on_is_finished_as_failed(
        ts_env: WorkflowEnvironment) -> None:
    runner = RecordingRunner(refuse=True)
    with pytest.raises(WorkflowFailureError):
        await run(ts_env, runner, total=3)
    assert runner.attempts == [(0, 2)]
    assert len(runner.finished) == 1 and runner.finished[0][0] is True
    assert "archived file is gone" in (runner.finished[0][1] or "")
