"""The order workflow on Temporal's time-skipping server, with the real projection activity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.support.builders import FULL_PICK, POD, RECEIPT, SHIP, SURVEY
from tests.support.order_workflow_harness import send, start, state
from tests.support.worker_harness import running_worker
from workflows.order.types import EventType, FollowUpStatus, Stage


@pytest.fixture
async def client(ts_env: WorkflowEnvironment, sqlite_url: str,
                 task_queue: str) -> AsyncIterator[Client]:
    async with running_worker(ts_env.client, sqlite_url, task_queue):
        yield ts_env.client


async def test_happy_path_reaches_closed_through_every_stage(
        ts_env: WorkflowEnvironment, client: Client, task_queue: str) -> None:
    h = await start(ts_env, client, task_queue)
    assert await send(ts_env, h, EventType.CONFIRMED) == Stage.CONFIRMED
    assert await send(ts_env, h, EventType.PICKED, FULL_PICK) == Stage.PICKED
    assert await send(ts_env, h, EventType.SHIPPED, SHIP) == Stage.IN_TRANSIT
    await send(ts_env, h, EventType.TRACKING_SCAN, {"location": "Hub", "status": "departed"})
    assert await send(ts_env, h, EventType.DELIVERED, POD) == Stage.DELIVERED
    assert await send(ts_env, h, EventType.RECEIPT_RETURNED, RECEIPT) == Stage.RECEIPT_ARCHIVED
    await ts_env.sleep(timedelta(days=1, minutes=1))
    assert (await state(h)).survey.status == FollowUpStatus.DUE
    assert await send(ts_env, h, EventType.SURVEY_RESPONSE, SURVEY) == Stage.CLOSED
    assert await h.result() == Stage.CLOSED
    final = await state(h)
    assert set(final.stage_times) == {s.value for s in Stage} - {"cancelled"}
    assert final.in_full is True and final.on_time is True
    assert final.breaches == []
