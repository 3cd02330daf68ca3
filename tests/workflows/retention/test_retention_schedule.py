"""The personal-data retention schedule on the dev server (the time-skipping server has no
schedules) with a real worker: it exists at 03:15 business time, and a triggered run redacts
the closed order past the period, and only it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.audit.queries import verify
from db.engine import make_engine, session_factory
from db.orders.queries import timeline
from db.personal.fields import REDACTED
from schedules import RETENTION_ID, SCHEDULE_IDS, ensure_schedules
from tests.support import personal_data as pd
from tests.support.worker_harness import running_worker
from workflows.retention.types import RetentionResult

ZONE = "Asia/Shanghai"


async def test_the_daily_retention_run_redacts_what_passed_the_period(
        dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        pd.order(session, "SO-OLD", now - timedelta(days=400))
        pd.order(session, "SO-NEW", now - timedelta(days=3))
    settings = Settings(database_url=sqlite_url, task_queue=task_queue, business_timezone=ZONE)
    client = dev_env.client
    try:
        async with running_worker(client, sqlite_url, task_queue, settings):
            await ensure_schedules(client, task_queue, ZONE)
            handle = client.get_schedule_handle(RETENTION_ID)
            desc = await handle.describe()
            (calendar,) = desc.schedule.spec.calendars
            assert [r.start for r in calendar.hour] == [3]
            assert [r.start for r in calendar.minute] == [15]
            action = desc.schedule.action
            assert action.workflow == "PersonalDataRetentionWorkflow"  # type: ignore[union-attr]
            await handle.trigger()
            actions = []
            for _ in range(600):
                actions = (await handle.describe()).info.recent_actions
                if actions:
                    break
                await asyncio.sleep(0.1)
            started = actions[0].action
            result = await client.get_workflow_handle(
                started.workflow_id,  # type: ignore[attr-defined]
                run_id=started.first_execution_run_id,  # type: ignore[attr-defined]
                result_type=RetentionResult).result()
        assert (result.orders, result.complaints, result.inline_kept) == (1, 0, 0)
        assert result.values > 0
        with sessions() as session:
            old = {e.event_id: e.data for e in timeline(session, "SO-OLD")}
            new = {e.event_id: e.data for e in timeline(session, "SO-NEW")}
            assert old["e-note"]["text"] == REDACTED and new["e-note"]["text"] == pd.NOTE
            assert verify(session, "SO-OLD", {}).ok
    finally:
        for schedule_id in SCHEDULE_IDS:
            await client.get_schedule_handle(schedule_id).delete()
        engine.dispose()
