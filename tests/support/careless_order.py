"""OrderWorkflow with its logic changed in place, not behind `workflow.patched`, as a careless
edit would: `waybill replay` must refuse it against the histories of orders already run."""

from __future__ import annotations

from datetime import timedelta
from types import ModuleType

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    # The payload types the input's hints name, as workflows/order/workflow.py imports them:
    # the sandbox resolves those hints through its own sys.modules.
    from workflows.order.types import OrderInput, Stage
    from workflows.order.workflow import OrderWorkflow
    from workflows.policy import EscalationPolicy, SlaPolicy  # noqa: F401


@workflow.defn(name="OrderWorkflow")
class CarelessOrderWorkflow(OrderWorkflow):
    @workflow.run
    async def run(self, inp: OrderInput) -> Stage:
        await workflow.sleep(timedelta(milliseconds=1))  # a new first command
        return await super().run(inp)


def swap_into(worker: ModuleType) -> None:
    """The worker module's WORKFLOWS with the careless OrderWorkflow in place of the real one."""
    worker.WORKFLOWS[:] = [CarelessOrderWorkflow if cls is OrderWorkflow else cls
                           for cls in worker.WORKFLOWS]
