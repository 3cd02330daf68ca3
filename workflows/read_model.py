"""Writing a workflow's read model: one projection activity per change, its notices delivered.

Orders, claims, complaints and escalations all project alike, with the same timeout and retry,
so a stalled database holds each of them back the same way; the outbox rows the projection
wrote in its transaction get a DeliveryWorkflow each, started by the projection activity
itself once its transaction committed (workflows/notify/delivery.py). A workflow whose history
predates that still hands the ids to its `Deliveries` (whose notifier calls now defer to those
DeliveryWorkflows), so it replays as it ran.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.notify.deliveries import Deliveries
    from workflows.notify.delivery import DELIVERY_WORKFLOWS_PATCH

PROJECTION_TIMEOUT = timedelta(seconds=30)
# Retried without limit: the read model must catch up once the database is back.
PROJECTION_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30))


async def project(activity: Any, payload: Any, deliveries: Deliveries,
                  deliveries_started: bool = False) -> None:
    """Run `activity` (a projection activity method returning outbox ids) on `payload`.
    `deliveries_started`: the case knows, without a patch marker of its own, that the
    activity starts the deliveries (an order started from its CURRENT_PATCH on)."""
    outbox = await workflow.execute_activity_method(
        activity, payload, start_to_close_timeout=PROJECTION_TIMEOUT,
        retry_policy=PROJECTION_RETRY)
    if not deliveries_started and not workflow.patched(DELIVERY_WORKFLOWS_PATCH):
        deliveries.start(outbox)
