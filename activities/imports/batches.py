"""The bulk-import workflow's activities: create a batch of a file's orders, finish the import.

The work itself (reading the archived file, creating each order through the API's own service
with its rules, recording outcomes) is done by an `ImportRunner` the worker hands in: the
activities layer knows no HTTP layer (pyproject's import contracts), and the runner lives beside
the API's order service it calls (api/imports/runner.py) so both take the same path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from temporalio import activity

from workflows.imports.types import FinishImportInput, ImportBatchInput, ImportBatchResult


class ImportRunner(Protocol):
    async def import_batch(self, import_id: str, start: int, stop: int,
                           heartbeat: Callable[[int], None]) -> ImportBatchResult: ...

    async def finish(self, import_id: str, failed: bool, error: str | None) -> None: ...


class ImportActivities:
    def __init__(self, runner: ImportRunner) -> None:
        self._runner = runner

    @activity.defn
    async def import_batch(self, inp: ImportBatchInput) -> ImportBatchResult:
        # The heartbeat carries how far the batch got (for the Web UI); a retry starts over
        # and skips the orders already recorded.
        return await self._runner.import_batch(inp.import_id, inp.start, inp.stop,
                                               activity.heartbeat)

    @activity.defn
    async def finish_import(self, inp: FinishImportInput) -> None:
        await self._runner.finish(inp.import_id, inp.failed, inp.error)
