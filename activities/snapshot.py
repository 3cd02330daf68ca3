"""Reading what a lean projection writes from its case workflow, by query.

A lean projection's input names the write (its seq) instead of carrying it, so the history does
not grow with the case's state; the sync projection activity (order, escalation, claim,
complaint) asks the workflow run that scheduled it, which holds the write until that activity
returns (workflows/case.py).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from datetime import timedelta
from typing import TypeVar

from temporalio import activity
from temporalio.client import Client

from workflows.order.types import SNAPSHOT_QUERY

T = TypeVar("T")

# A query is answered by a worker in milliseconds; past this the activity fails and retries.
QUERY_TIMEOUT_SECONDS = 20.0


class SnapshotReader:
    """Runs snapshot queries on `client`'s event loop from the activities' threads."""

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._client = client
        self._loop = loop or asyncio.get_running_loop()

    def read(self, result_type: type[T], seq: int) -> T:
        """Write `seq` of the workflow run running this activity; raises (so the activity
        retries) if no answer comes."""
        info = activity.info()
        future: Future[T] = asyncio.run_coroutine_threadsafe(
            self._query(result_type, info.workflow_id, info.workflow_run_id, seq), self._loop)
        return future.result(QUERY_TIMEOUT_SECONDS)

    async def _query(self, result_type: type[T], workflow_id: str | None, run_id: str | None,
                     seq: int) -> T:
        if workflow_id is None:
            raise RuntimeError("a snapshot is read only by an activity a workflow scheduled")
        handle = self._client.get_workflow_handle(workflow_id, run_id=run_id)
        return await handle.query(SNAPSHOT_QUERY, seq, result_type=result_type,
                                  rpc_timeout=timedelta(seconds=QUERY_TIMEOUT_SECONDS))


def read_snapshot(reader: SnapshotReader | None, result_type: type[T], seq: int) -> T:
    """`reader.read`; a lean projection cannot run without one (worker.py gives it)."""
    if reader is None:
        raise RuntimeError("lean projections need a SnapshotReader (worker.py)")
    return reader.read(result_type, seq)
