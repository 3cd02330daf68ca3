"""A delivery per outbox row: retried for a day on durable timers, apart from its order.

`DeliveryWorkflow` (id `delivery-<outbox row id>`) owns all attempts of one row: the notifier
activity retried by Temporal with DELIVERY_RETRY (durable server-side backoff, a little over
24 h), so an order's workflow never waits on a slow receiver. The projection activities start
one per row they write, after their transaction commits; starting one that is already running
is a no-op (`activities.notify.delivery_start`). A redelivery starts a new run under the same id.

Rows left `pending` by a terminated or failed workflow, or claimed by an attempt that died, are
re-driven by the sweep (workflows/notify/outbox_sweep.py).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notify.deliver import DELIVERY_RETRY, DELIVERY_TIMEOUT, NotifierActivities
    from workflows.notify.types import DeliverInput, DeliveryInput

# Workflows that passed this point with it deliver through DeliveryWorkflows (started by their
# projection activities); older histories keep calling the notifier themselves.
DELIVERY_WORKFLOWS_PATCH = "deliveries-as-workflows"


@workflow.defn
class DeliveryWorkflow:
    @workflow.run
    async def run(self, inp: DeliveryInput) -> str:
        """Returns the row's final status (see activities/notify/deliver.py)."""
        try:
            return await workflow.execute_activity_method(
                NotifierActivities.deliver,
                DeliverInput(outbox_id=inp.outbox_id, delivery_workflow=True),
                start_to_close_timeout=DELIVERY_TIMEOUT, retry_policy=DELIVERY_RETRY)
        except ActivityError:
            # Only infrastructure outlasting every retry (or a row that vanished) ends here;
            # a row still pending is re-driven by the sweep.
            workflow.logger.warning("notification not delivered",
                                    extra={"outbox_id": inp.outbox_id})
            return "not_delivered"
