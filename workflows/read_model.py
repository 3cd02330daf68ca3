"""Writing a workflow's read model: one projection activity per change, its notices delivered.

Orders, claims, complaints and escalations all project alike, with the same timeout and retry,
so a stalled database holds each of them back the same way; the outbox rows the projection
wrote in its transaction get a DeliveryWorkflow each, started by the projection activity
itself once its transaction committed (workflows/notify/delivery.py). A workflow whose history
predates that still hands the ids to its `Deliveries` (whose notifier calls now defer to those
DeliveryWorkflows), so it replays as it ran.

An order started from its LOCAL_PROJECTIONS patch on runs its projections as local activities:
the write to Waybill's own database runs in the worker already running the workflow task, so an
event's update is answered after one workflow task instead of two with an activity task between
them (six history events fewer per change, about half an event's latency, most of the Temporal
server's work per order: bench/README.md). It loses nothing: a local activity is retried in its
worker (here without limit, as the activity was), a long one keeps its workflow task alive by
heartbeat, and if the worker dies the workflow task times out, another worker replays and runs
the projection again, which is idempotent for that very reason (sequence-guarded upserts, rows
keyed by event id). What it gives up is the activity's own retry state in Temporal's history
and the task queue between them: neither is used by a projection, always run by the worker
that decided it.
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
                  deliveries_started: bool = False, local: bool = False) -> None:
    """Run `activity` (a projection activity method returning outbox ids) on `payload`.
    `deliveries_started`: the case knows, without a patch marker of its own, that the
    activity starts the deliveries (an order started from the consolidated patch on).
    `local`: run it as a local activity (the case's patch says so)."""
    if local:
        outbox = await workflow.execute_local_activity_method(
            activity, payload, start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY)
    else:
        outbox = await workflow.execute_activity_method(
            activity, payload, start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY)
    if not deliveries_started and not workflow.patched(DELIVERY_WORKFLOWS_PATCH):
        deliveries.start(outbox)
