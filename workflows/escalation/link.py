"""Starting and clearing escalation ladders from a parent workflow (order, claim, complaint).

Operations are queued by the caller's (synchronous) state changes and sent in order under a
lock, so a clear is never sent before the start of the same escalation.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import workflow
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows.escalation.types import ClearInput, EscalationInput
    from workflows.escalation.workflow import EscalationWorkflow


class EscalationLink:
    def __init__(self) -> None:
        self._ops: list[EscalationInput | tuple[str, str]] = []
        self._lock = asyncio.Lock()

    def open(self, inp: EscalationInput) -> None:
        self._ops.append(inp)

    def clear(self, escalation_id: str, reason: str) -> None:
        self._ops.append((escalation_id, reason))

    async def sync(self) -> None:
        async with self._lock:
            while self._ops:
                op = self._ops.pop(0)
                if isinstance(op, EscalationInput):
                    # ABANDON: the ladder outlives the order, claim or complaint that raised it.
                    with contextlib.suppress(WorkflowAlreadyStartedError):
                        await workflow.start_child_workflow(
                            EscalationWorkflow.run, op, id=op.escalation_id,
                            parent_close_policy=ParentClosePolicy.ABANDON)
                    continue
                escalation_id, reason = op
                try:
                    await workflow.get_external_workflow_handle(escalation_id).signal(
                        EscalationWorkflow.clear, ClearInput(reason=reason))
                except ApplicationError:
                    # Already resolved by an operator and finished: nothing left to clear.
                    workflow.logger.info("escalation already closed",
                                         extra={"escalation_id": escalation_id})
