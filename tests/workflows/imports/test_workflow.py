"""The import workflow on the time-skipping server: every order of the file in exactly one
batch across continue-as-new, a failed batch retried, the import finished once (done or
failed). The runner is the activities' injected seam (the real one is tested over HTTP in
tests/api/imports/); this one records what it was asked to do."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment

from tests.support.imports_workflow import RecordingRunner, run


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
