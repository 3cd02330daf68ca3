"""A test-only workflow that delivers outbox rows the way DeliveryWorkflow does, one by one.

It uses the production DELIVERY_RETRY with shorter intervals (and optionally fewer attempts, a
shorter attempt timeout), so retries run for real on the Temporal dev server without making
tests wait minutes or a day.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notify.deliver import DELIVERY_RETRY, DELIVERY_TIMEOUT, NotifierActivities
    from workflows.notify.types import DeliverInput


@dataclass
class DeliverAllInput:
    outbox_ids: list[str]
    activity_task_queue: str | None = None  # None: the workflow's own task queue
    retry_interval_ms: int = 50
    maximum_attempts: int | None = None  # None: DELIVERY_RETRY's
    start_to_close_seconds: float | None = None  # None: DELIVERY_TIMEOUT


@workflow.defn
class DeliverAllWorkflow:
    @workflow.run
    async def run(self, inp: DeliverAllInput) -> list[str]:
        retry = dataclasses.replace(
            DELIVERY_RETRY,
            initial_interval=timedelta(milliseconds=inp.retry_interval_ms),
            maximum_interval=timedelta(milliseconds=inp.retry_interval_ms * 4),
            maximum_attempts=inp.maximum_attempts or DELIVERY_RETRY.maximum_attempts)
        timeout = (timedelta(seconds=inp.start_to_close_seconds)
                   if inp.start_to_close_seconds else DELIVERY_TIMEOUT)
        results = []
        for outbox_id in inp.outbox_ids:
            results.append(await workflow.execute_activity_method(
                NotifierActivities.deliver, DeliverInput(outbox_id, delivery_workflow=True),
                start_to_close_timeout=timeout, retry_policy=retry,
                task_queue=inp.activity_task_queue))
        return results
