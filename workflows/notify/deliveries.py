"""Notification deliveries of workflows started before DELIVERY_WORKFLOWS_PATCH (replay only).

Such a workflow calls the notifier for each row its projection wrote, concurrently, and awaits
the calls before it ends, as its history records. The notifier now answers these calls at
once ("handed_off"): the row's DeliveryWorkflow, or the sweep, delivers it
(workflows/notify/delivery.py).
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify.deliver import DELIVERY_RETRY, DELIVERY_TIMEOUT, NotifierActivities
    from workflows.notify.types import DeliverInput


class Deliveries:
    def __init__(self) -> None:
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, outbox_ids: list[str]) -> None:
        for outbox_id in outbox_ids:
            self._tasks.append(asyncio.create_task(self._deliver(outbox_id)))

    async def _deliver(self, outbox_id: str) -> None:
        try:
            await workflow.execute_activity_method(
                NotifierActivities.deliver, DeliverInput(outbox_id=outbox_id),
                start_to_close_timeout=DELIVERY_TIMEOUT, retry_policy=DELIVERY_RETRY)
        except ActivityError:
            # The notifier records its own outcome; only infrastructure outlasting every retry
            # ends here, and the row stays in the outbox for an operator to see.
            workflow.logger.warning("notification not delivered", extra={"outbox_id": outbox_id})

    async def finish(self) -> None:
        await asyncio.gather(*self._tasks)
