"""A test-only stand-in for an order: it waits for one `claim_closed` signal and returns it.

The claim signals its order by workflow id and signal name, so any workflow with that id and
handler receives it; this one lets the claim tests see exactly what the order would be told.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.claim.types import ClaimClosed


@workflow.defn
class OrderStubWorkflow:
    def __init__(self) -> None:
        self._closed: list[ClaimClosed] = []

    @workflow.run
    async def run(self) -> list[ClaimClosed]:
        await workflow.wait_condition(lambda: bool(self._closed))
        return self._closed

    @workflow.signal
    def claim_closed(self, inp: ClaimClosed) -> None:
        self._closed.append(inp)
