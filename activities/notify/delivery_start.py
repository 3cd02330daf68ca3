"""Starting a row's DeliveryWorkflow: idempotent by workflow id, safe to call again.

Called after the transaction that wrote (or reopened) the row committed: by the projection
activities (sync, in the worker's thread pool: `start_from_thread`), by the sweep and by the
redeliver endpoint (`start`).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from workflows.ids import delivery_workflow_id
from workflows.notify.delivery import DeliveryWorkflow
from workflows.notify.types import DeliveryInput

log = logging.getLogger("waybill.notify")

START_TIMEOUT_SECONDS = 30.0


class DeliveryStarter:
    """Starts DeliveryWorkflows on `task_queue`; `loop` is the one `client` runs on."""

    def __init__(self, client: Client, task_queue: str,
                 loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._client = client
        self._task_queue = task_queue
        self._loop = loop or asyncio.get_running_loop()

    async def start(self, outbox_ids: list[str]) -> int:
        """Start a delivery per row unless one is running; returns how many were started."""
        started = await asyncio.gather(*(self._start_one(i) for i in outbox_ids))
        return sum(started)

    def start_from_thread(self, outbox_ids: list[str]) -> int:
        """`start` from a sync activity's thread; raises (so the activity retries) if Temporal
        cannot be reached in time."""
        if not outbox_ids:
            return 0
        future: Future[int] = asyncio.run_coroutine_threadsafe(self.start(outbox_ids),
                                                               self._loop)
        return future.result(START_TIMEOUT_SECONDS)

    async def _start_one(self, outbox_id: str) -> bool:
        try:
            await self._client.start_workflow(
                DeliveryWorkflow.run, DeliveryInput(outbox_id=outbox_id),
                id=delivery_workflow_id(outbox_id), task_queue=self._task_queue,
                # A closed run may be followed by another (a redelivery, a sweep); a running
                # one is left alone.
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        except WorkflowAlreadyStartedError:
            return False
        return True


def deliver_after_commit(starter: DeliveryStarter | None, outbox_ids: list[str]) -> list[str]:
    """Start the deliveries of rows whose transaction has committed; returns their ids.

    Without a starter (a test calling an activity directly) the sweep delivers them.
    """
    if starter is not None:
        starter.start_from_thread(outbox_ids)
    return outbox_ids
