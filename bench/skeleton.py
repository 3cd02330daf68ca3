"""The bare-Temporal skeleton of an order's happy path, the yardstick of `bench.throughput`.

Same shape as OrderWorkflow on the happy path: one workflow per order started with reject-
duplicate and a stage search attribute, each event an update (update id = event id) behind a
validator with a transition table, an activity per change that upserts the order's row and
its timeline rows, the stage search attribute kept up to date, and the survey timer (due
`survey_after` after delivery); it closes once the receipt is back and the survey answered.
What it leaves out is everything Waybill adds at its edges: HTTP, auth, the API's own
database reads and writes, SLA deadlines, escalations, notifications.

Types live in `skeleton_types.py`, the activity and the worker in `skeleton_worker.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from bench.skeleton_types import (
        SkeletonEntry,
        SkeletonEventInput,
        SkeletonOrderInput,
        SkeletonProjection,
        SkeletonView,
    )
    from bench.skeleton_worker import SkeletonActivities

# The Waybill namespace's own stage attribute: the skeleton pays the same visibility writes.
STAGE = SearchAttributeKey.for_keyword("WaybillStage")
AFTER_DELIVERY = frozenset({"delivered", "receipt_archived", "followed_up"})
ALLOWED_IN: dict[str, frozenset[str]] = {
    "confirmed": frozenset({"received"}),
    "picked": frozenset({"confirmed"}),
    "shipped": frozenset({"picked"}),
    "tracking_scan": frozenset({"in_transit"}) | AFTER_DELIVERY,
    "delivered": frozenset({"in_transit"}),
    "receipt_returned": AFTER_DELIVERY,
    "survey_response": AFTER_DELIVERY,
}
NEXT_STAGE = {"confirmed": "confirmed", "picked": "picked", "shipped": "in_transit",
              "delivered": "delivered"}
ACTIVITY_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class SkeletonOrderWorkflow:
    @workflow.init
    def __init__(self, inp: SkeletonOrderInput) -> None:
        self._order_id = inp.order_id
        self._survey_after = timedelta(seconds=inp.survey_after_seconds)
        self._stage = "received"
        self._survey: str | None = None
        self._survey_due_at: datetime | None = None
        self._receipt = False
        self._seq = 0
        self._pending = [SkeletonEntry("order-created", "order_created", inp.received_at)]
        self._changed = False
        self._projecting = asyncio.Lock()

    @workflow.run
    async def run(self, inp: SkeletonOrderInput) -> str:
        while self._stage != "closed":
            self._changed = False
            self._refresh()
            await self._project()
            if self._stage == "closed":
                break
            due = self._survey_due_at if self._survey == "pending" else None
            timeout = None if due is None else max((due - workflow.now()).total_seconds(), 0.001)
            with contextlib.suppress(TimeoutError):  # the survey fell due: refresh
                await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._project()
        return self._stage

    @workflow.query
    def view(self) -> SkeletonView:
        return SkeletonView(stage=self._stage, survey=self._survey)

    @workflow.update
    async def apply_event(self, inp: SkeletonEventInput) -> str:
        now = workflow.now()
        self._pending.append(SkeletonEntry(inp.event_id, inp.type, inp.occurred_at))
        if inp.type in NEXT_STAGE:
            self._enter(NEXT_STAGE[inp.type])
        if inp.type == "delivered":
            self._survey, self._survey_due_at = "pending", now + self._survey_after
        elif inp.type == "receipt_returned":
            self._receipt = True
        elif inp.type == "survey_response":
            self._survey = "answered"
        if self._receipt and self._survey == "answered":
            self._enter("closed")
        self._refresh()
        self._changed = True
        await self._project()
        return self._stage

    @apply_event.validator
    def _validate(self, inp: SkeletonEventInput) -> None:
        allowed = ALLOWED_IN.get(inp.type)
        if allowed is None or self._stage not in allowed:
            raise ApplicationError(f"{inp.type} is not allowed in stage {self._stage}",
                                   type="invalid_transition", non_retryable=True)
        if inp.type == "survey_response" and self._survey != "due":
            raise ApplicationError("the survey is not awaiting an answer",
                                   type="invalid_transition", non_retryable=True)
        if inp.type == "receipt_returned" and self._receipt:
            raise ApplicationError("the receipt was already returned",
                                   type="invalid_transition", non_retryable=True)

    def _enter(self, stage: str) -> None:
        self._stage = stage
        workflow.upsert_search_attributes([STAGE.value_set(stage)])

    def _refresh(self) -> None:
        if self._survey == "pending" and self._survey_due_at is not None \
                and workflow.now() >= self._survey_due_at:
            self._survey = "due"
            self._pending.append(SkeletonEntry("survey-due", "survey_due", self._survey_due_at))

    async def _project(self) -> None:
        # One projection at a time, like OrderWorkflow: updates may run concurrently.
        async with self._projecting:
            if not self._pending and self._seq:
                return
            entries, self._pending = self._pending, []
            self._seq += 1
            await workflow.execute_activity_method(
                SkeletonActivities.project_skeleton,
                SkeletonProjection(order_id=self._order_id, stage=self._stage,
                                   survey=self._survey, seq=self._seq, entries=entries),
                start_to_close_timeout=ACTIVITY_TIMEOUT)
