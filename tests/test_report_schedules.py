"""Scheduled reports (issue 6 §3): the Schedules, stored snapshots, the monthly report notice.

On the dev server (the time-skipping server has no schedules) and both databases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from activities.reports import previous_day
from config import Settings
from db import kpi_snapshots as snaps
from db import subscriptions as subs_repo
from db.engine import make_engine, session_factory, transaction
from db.inbox import list_items
from db.notification_models import OutboxRow
from db.notifications import NotificationEvent
from schedules import DAILY_SNAPSHOT_ID, MONTHLY_REPORT_ID, ensure_schedules
from tests.conftest import running_worker
from tests.kpi_fixtures import AFTER_ALL, Answer, november, order
from tests.notify_harness import webhook_receiver
from workflows.report_types import FollowUpMonthlyReportInput, SnapshotResult
from workflows.reports import FollowUpMonthlyReportWorkflow

ZONE = "Asia/Shanghai"


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def settings_for(db_url: str, task_queue: str) -> Settings:
    return Settings(database_url=db_url, task_queue=task_queue, business_timezone=ZONE)


async def test_schedules_exist_after_setup_and_a_second_setup_changes_nothing_but_the_queue(
        dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    try:
        assert await ensure_schedules(client, "tq-first", ZONE) == [DAILY_SNAPSHOT_ID,
                                                                     MONTHLY_REPORT_ID]
        await client.get_schedule_handle(DAILY_SNAPSHOT_ID).pause(note="paused by an admin")
        await ensure_schedules(client, "tq-second", ZONE)  # already there: updated, no error

        daily = await client.get_schedule_handle(DAILY_SNAPSHOT_ID).describe()
        monthly = await client.get_schedule_handle(MONTHLY_REPORT_ID).describe()
        for desc, workflow in ((daily, "DailyKpiSnapshotWorkflow"),
                               (monthly, "FollowUpMonthlyReportWorkflow")):
            assert desc.schedule.spec.time_zone_name == ZONE
            assert desc.schedule.action.workflow == workflow  # type: ignore[union-attr]
            assert desc.schedule.action.task_queue == "tq-second"  # type: ignore[union-attr]
        (day_cal,) = daily.schedule.spec.calendars
        assert [r.start for r in day_cal.hour] == [0] and [r.start for r in day_cal.minute] == [30]
        (month_cal,) = monthly.schedule.spec.calendars
        assert [r.start for r in month_cal.day_of_month] == [1]
        assert [r.start for r in month_cal.hour] == [6]
        assert daily.schedule.state.paused  # the update kept the admin's pause

        listed = [s.id async for s in await client.list_schedules()]
        assert sorted(i for i in listed if i.startswith("waybill-")) == sorted(
            [DAILY_SNAPSHOT_ID, MONTHLY_REPORT_ID])
    finally:
        for schedule_id in (DAILY_SNAPSHOT_ID, MONTHLY_REPORT_ID):
            await client.get_schedule_handle(schedule_id).delete()


async def test_the_daily_schedule_triggered_twice_stores_one_snapshot_of_the_day_before(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str) -> None:
    client = dev_env.client
    with transaction(sessions) as session:
        november(session)
    async with running_worker(client, db_url, task_queue, settings_for(db_url, task_queue)):
        try:
            await ensure_schedules(client, task_queue, ZONE)
            handle = client.get_schedule_handle(DAILY_SNAPSHOT_ID)
            results = []
            for run in (1, 2):
                # A scheduled run's id ends in the trigger's second: one second apart.
                await asyncio.sleep(1.1 * (run - 1))
                await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)
                actions = []
                for _ in range(300):
                    actions = (await handle.describe()).info.recent_actions
                    if len(actions) >= run:
                        break
                    await asyncio.sleep(0.1)
                assert len(actions) == run
                action = actions[-1].action
                results.append(await client.get_workflow_handle(
                    action.workflow_id,  # type: ignore[attr-defined]
                    run_id=action.first_execution_run_id,  # type: ignore[attr-defined]
                    result_type=SnapshotResult).result())
        finally:
            for schedule_id in (DAILY_SNAPSHOT_ID, MONTHLY_REPORT_ID):
                await client.get_schedule_handle(schedule_id).delete()
    day = previous_day(actions[0].scheduled_at, ZONE)
    assert {r.period_key for r in results} == {day}
    assert [r.created for r in results] == [True, False]  # the second kept the first figures
    with sessions() as session:
        assert snaps.count(session) == 1
        row = snaps.get(session, snaps.SnapshotKind.DAILY_KPIS, day)
        assert row is not None
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    assert row.body["period"]["from"] == start.isoformat().replace("+00:00", "Z")


async def test_monthly_report_is_stored_sent_and_later_reports_late_events_not_new_figures(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str) -> None:
    client = dev_env.client
    with transaction(sessions) as session:
        november(session)

    async def run() -> SnapshotResult:
        return await client.execute_workflow(
            FollowUpMonthlyReportWorkflow.run,
            FollowUpMonthlyReportInput(month="2026-11", as_of=AFTER_ALL),
            id=f"report-{uuid.uuid4().hex[:8]}", task_queue=task_queue,
            execution_timeout=timedelta(seconds=60))

    with webhook_receiver() as receiver:
        with transaction(sessions) as session:
            sub, receiver.secret = subs_repo.create(
                session, receiver.url, [NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value], None,
                "test")
        async with running_worker(client, db_url, task_queue, settings_for(db_url, task_queue)):
            first = await run()
            with sessions() as session:
                stored = snaps.get(session, snaps.SnapshotKind.FOLLOW_UP_MONTHLY, "2026-11")
                assert stored is not None
                reported = stored.body
            assert first.created and first.late_changes == []
            assert first.delivered == ["delivered", "delivered"]  # webhook and inbox

            again = await run()  # nothing new: nothing stored or sent again
            assert not again.created and again.late_changes == [] and again.outbox_ids == []

            # A follow-up due in November, answered, that reaches us only now.
            with transaction(sessions) as session:
                order(session, "O10", "C-C", "11-20T00:00", {
                    "received": "11-16T00:00", "confirmed": "11-16T01:00",
                    "picked": "11-16T02:00", "shipped": "11-17T00:00",
                    "in_transit": "11-17T00:00", "delivered": "11-18T00:00",
                    "followed_up": "11-19T03:00"}, carrier="SF", on_time=True, in_full=True,
                    answer=Answer("11-19T03:00", {"arrival": 2, "service": 1}))
            late = await run()

    assert not late.created
    changed = {c["figure"]: (c["reported"], c["now"]) for c in late.late_changes}
    due = reported["total"]["due"]
    assert changed["total.due"] == (due, due + 1)
    assert changed["total.answered"] == (reported["total"]["answered"],
                                         reported["total"]["answered"] + 1)
    assert "by_customer[C-C].figures.due" in changed
    with sessions() as session:
        kept = snaps.get(session, snaps.SnapshotKind.FOLLOW_UP_MONTHLY, "2026-11")
        assert kept is not None and kept.body == reported  # the figures as first reported
        assert snaps.count(session) == 1
        rows = list(session.scalars(select(OutboxRow).where(
            OutboxRow.event_type == "report.follow_up_monthly").order_by(OutboxRow.created_at)))
        inbox = list_items(session, "customer_service", False, 10)
    assert len(rows) == 4 and {r.status for r in rows} == {"delivered"}
    assert [r.order_id for r in rows] == [None] * 4  # a report is about no order
    assert len(inbox) == 2
    assert [i.order_id for i in inbox] == [None, None]
    assert "2026-11 回访月报" in inbox[0].title
    assert f"total.due: {due} -> {due + 1}" in inbox[0].body  # the newest tells the late event
    assert "（0 项）" in inbox[1].body
    bodies = [r.body for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["report.follow_up_monthly"] * 2
    # The documented payload keeps every key; no order is null, as escalation_id is.
    assert [(b["order_id"], b["escalation_id"]) for b in bodies] == [(None, None)] * 2
    assert bodies[0]["data"]["report"] == reported
    assert bodies[1]["data"]["late_change_count"] == len(late.late_changes)
    assert all(r.signature_ok for r in receiver.requests)
