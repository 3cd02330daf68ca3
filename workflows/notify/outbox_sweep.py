"""The outbox sweep, every few minutes (schedules.py): rows left `pending` by a terminated or
failed workflow, or claimed by an attempt that died, get their DeliveryWorkflow (re)started."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notify.outbox_sweep import SWEEP_TIMEOUT, SweepActivities
    from workflows.notify.types import SweepInput, SweepResult


@workflow.defn
class OutboxSweepWorkflow:
    @workflow.run
    async def run(self, inp: SweepInput) -> SweepResult:
        return await workflow.execute_activity_method(
            SweepActivities.sweep_outbox, inp, start_to_close_timeout=SWEEP_TIMEOUT)
