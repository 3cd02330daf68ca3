"""Starting the order's claims and complaints: child workflows that outlive the order.

Started by reference: the claim signals its order back (claim_closed), a cycle Python resolves
because module attributes are read at call time; `import a.b as c` passes through the sandbox.
"""

from __future__ import annotations

import contextlib

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    import workflows.claim.workflow as claim_flow
    import workflows.complaint.workflow as complaint_flow
    from workflows.claim.types import ClaimInput
    from workflows.ids import claim_workflow_id, complaint_workflow_id
    from workflows.order.context import ChildInput


async def start_children(children: list[ChildInput]) -> None:
    """Start (and empty) the queue; ABANDON: a claim goes on after its order closes."""
    while children:
        child = children.pop(0)
        with contextlib.suppress(WorkflowAlreadyStartedError):
            if isinstance(child, ClaimInput):
                await workflow.start_child_workflow(
                    claim_flow.ClaimWorkflow.run, child, id=claim_workflow_id(child.claim_id),
                    parent_close_policy=ParentClosePolicy.ABANDON)
            else:
                await workflow.start_child_workflow(
                    complaint_flow.ComplaintWorkflow.run, child,
                    id=complaint_workflow_id(child.complaint_id),
                    parent_close_policy=ParentClosePolicy.ABANDON)
