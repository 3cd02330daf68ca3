"""Driving OrderWorkflow on the time-skipping server: start an order, send it events, read its
state, bring it to a stage; and checks that an event is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.support.builders import (
    FULL_PICK,
    POD,
    RECEIPT,
    SHIP,
    STANDARD,
    SURVEY,
    event,
    order_input,
)
from workflows.order.types import EventInput, EventType, OrderState, Stage
from workflows.order.workflow import OrderWorkflow


async def start(env: WorkflowEnvironment, client: Client, task_queue: str,
                **kw) -> WorkflowHandle:
    inp = order_input(await env.get_current_time(), **kw)
    return await client.start_workflow(OrderWorkflow.run, inp, id=f"order-{inp.order_id}",
                                       task_queue=task_queue)


async def send(env: WorkflowEnvironment, handle: WorkflowHandle, type_: EventType,
               data: dict | None = None) -> Stage:
    ev = event(type_, await env.get_current_time(), data)
    result = await handle.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)
    return result.stage


async def state(handle: WorkflowHandle) -> OrderState:
    return await handle.query(OrderWorkflow.state)


# How far past a due time we sleep: enough for the timer to have fired, too little to reach
# any other deadline the scenarios set up.
SLACK = timedelta(minutes=1)


# The events that walk an order forward, and the stage each one leaves it in.
HAPPY_PATH: list[tuple[EventType, dict[str, Any] | None, Stage]] = [
    (EventType.CONFIRMED, None, Stage.CONFIRMED),
    (EventType.PICKED, FULL_PICK, Stage.PICKED),
    (EventType.SHIPPED, SHIP, Stage.IN_TRANSIT),
    (EventType.DELIVERED, POD, Stage.DELIVERED),
    (EventType.RECEIPT_RETURNED, RECEIPT, Stage.RECEIPT_ARCHIVED),
]


def secs(seconds: float) -> timedelta:
    """Policy durations are stored in seconds."""
    return timedelta(seconds=seconds)


async def post(handle: WorkflowHandle, ev: EventInput) -> Stage:
    """Apply a prebuilt event (for when its time or id matters), using its id as the update id."""
    result = await handle.execute_update(OrderWorkflow.apply_event, ev, id=ev.event_id)
    return result.stage


async def sleep_past(env: WorkflowEnvironment, when: datetime) -> None:
    """Skip the server clock to just after `when`, letting any timer due by then fire."""
    await env.sleep(when - await env.get_current_time() + SLACK)


async def reach(env: WorkflowEnvironment, handle: WorkflowHandle, stage: Stage) -> None:
    """Walk a fresh order along the happy path until it sits in `stage`.

    FOLLOWED_UP is off the straight path: it means the survey was answered while the receipt is
    still outstanding, so we deliver, wait for the survey to fall due and answer it.
    """
    if stage == Stage.FOLLOWED_UP:
        await reach(env, handle, Stage.DELIVERED)
        await env.sleep(secs(STANDARD.survey_after) + SLACK)
        assert await send(env, handle, EventType.SURVEY_RESPONSE, SURVEY) == Stage.FOLLOWED_UP
        return
    for type_, data, after in HAPPY_PATH:
        if (await state(handle)).stage == stage:
            return
        assert await send(env, handle, type_, data) == after
    assert (await state(handle)).stage == stage


NewOrder = Callable[..., Awaitable[WorkflowHandle]]





async def assert_rejected(handle: WorkflowHandle, ev: EventInput, code: str,
                          update_id: str | None = None) -> ApplicationError:
    """The validator refuses `ev` with error type `code`, and the order is left as it was."""
    before = await state(handle)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(OrderWorkflow.apply_event, ev, id=update_id or ev.event_id)
    err = raised.value.cause
    assert isinstance(err, ApplicationError) and err.type == code
    after = await state(handle)
    assert (after.stage, after.stage_times, after.seq) == (
        before.stage, before.stage_times, before.seq)
    assert after == before
    return err
