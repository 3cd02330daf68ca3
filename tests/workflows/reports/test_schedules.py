"""Scheduled reports (issue 6 §3): the Schedules, stored snapshots, the monthly report notice.

On the dev server (the time-skipping server has no schedules) and both databases.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from activities.reports.snapshots import ReportActivities
from config import Settings
from db.console.queries import save_preference
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.kpis import snapshots as snaps
from db.notifications import subscriptions as subs_repo
from db.notifications.inbox import list_items
from db.notifications.models import OutboxRow
from db.notifications.outbox import NotificationEvent, team_locales
from db.notifications.templates import LOCALES, TEMPLATE_DIR
from kpis.periods import previous_day
from schedules import (
    AUDIT_CHECKPOINT_ID,
    DAILY_SNAPSHOT_ID,
    MONTHLY_REPORT_ID,
    OUTBOX_SWEEP_ID,
    RETENTION_ID,
    SCHEDULE_IDS,
    SWEEP_EVERY,
    ensure_schedules,
)
from tests.support.kpi_fixtures import AFTER_ALL, Answer, november, order
from tests.support.notify_harness import await_deliveries, webhook_receiver
from tests.support.worker_harness import running_worker
from workflows.reports.types import (
    FollowUpMonthlyReportInput,
    SnapshotResult,
    StoreFollowUpReportInput,
)
from workflows.reports.workflow import FollowUpMonthlyReportWorkflow

ZONE = "Asia/Shanghai"


def reads_english(session: Session, name: str, team: str) -> None:
    """A member of `team` who chose English in the console."""
    key, _ = create_key(session, name, "supervisor", team=team)
    save_preference(session, key.id, datetime.now(UTC), locale="en")


def late_block(body: str, heading: str) -> list[str]:
    """The lines of the late-changes list under `heading`, up to the blank line."""
    return body.split(heading + "\n", 1)[1].split("\n\n", 1)[0].splitlines()


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
        assert await ensure_schedules(client, "tq-first", ZONE) == [
            DAILY_SNAPSHOT_ID, MONTHLY_REPORT_ID, OUTBOX_SWEEP_ID, AUDIT_CHECKPOINT_ID,
            RETENTION_ID]
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
        sweep = await client.get_schedule_handle(OUTBOX_SWEEP_ID).describe()
        assert sweep.schedule.action.workflow == "OutboxSweepWorkflow"  # type: ignore[union-attr]
        assert [i.every for i in sweep.schedule.spec.intervals] == [SWEEP_EVERY]
        assert not sweep.schedule.spec.calendars

        listed = [s.id async for s in await client.list_schedules()]
        assert sorted(i for i in listed if i.startswith("waybill-")) == sorted(SCHEDULE_IDS)
    finally:
        for schedule_id in SCHEDULE_IDS:
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
            for schedule_id in SCHEDULE_IDS:
                await client.get_schedule_handle(schedule_id).delete()
    day = previous_day(actions[0].scheduled_at, ZoneInfo(ZONE))
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
            # The webhook row by the DeliveryWorkflow the activity started; the inbox copy was
            # written with the report, in its transaction.
            assert await await_deliveries(client, first.outbox_ids) == ["delivered"]
            assert first.delivered == []  # only workflows started before that deliver here

            again = await run()  # nothing new: nothing stored or sent again
            assert not again.created and again.late_changes == [] and again.outbox_ids == []

            # A follow-up due in November, answered, that reaches us only now; meanwhile
            # customer service got members: one chose no language (zh-CN), one English.
            with transaction(sessions) as session:
                create_key(session, "desk-wang", "operator", team="customer_service")
                reads_english(session, "manager-en", "customer_service")
                order(session, "O10", "C-C", "11-20T00:00", {
                    "received": "11-16T00:00", "confirmed": "11-16T01:00",
                    "picked": "11-16T02:00", "shipped": "11-17T00:00",
                    "in_transit": "11-17T00:00", "delivered": "11-18T00:00",
                    "followed_up": "11-19T03:00"}, carrier="SF", on_time=True, in_full=True,
                    answer=Answer("11-19T03:00", {"arrival": 2, "service": 1}))
            late = await run()
            await await_deliveries(client, late.outbox_ids)

    assert not late.created
    changed = {c["figure"]: (c["reported"], c["now"]) for c in late.late_changes}
    due = reported["total"]["due"]
    assert changed["total.due"] == (due, due + 1)  # the machine-readable list keeps every value
    assert changed["total.answered"] == (reported["total"]["answered"],
                                         reported["total"]["answered"] + 1)
    assert "by_customer[C-C].figures.due" in changed
    assert "total.follow_up_rate.numerator" in changed
    with sessions() as session:
        kept = snaps.get(session, snaps.SnapshotKind.FOLLOW_UP_MONTHLY, "2026-11")
        assert kept is not None and kept.body == reported  # the figures as first reported
        assert snaps.count(session) == 1
        rows = list(session.scalars(select(OutboxRow).where(
            OutboxRow.event_type == "report.follow_up_monthly").order_by(OutboxRow.created_at)))
        inbox = list_items(session, "customer_service", False, 10)
    # Two runs to the webhook and the zh-CN inbox, and the late one in English as well.
    assert len(rows) == 5 and {r.status for r in rows} == {"delivered"}
    assert [r.order_id for r in rows] == [None] * 5  # a report is about no order
    assert len(inbox) == 3
    assert [i.order_id for i in inbox] == [None] * 3
    english, chinese = sorted(inbox[:2], key=lambda i: i.title.isascii(), reverse=True)
    assert chinese.title == "2026-11 回访月报"
    assert english.title == "Monthly follow-up report 2026-11"  # what the en manager reads

    # The late answer of C-C (standard tier) changed 5 figures in the total, C-C and standard:
    # one line each, the total first, the rate once with its new fraction; past 12 lines the
    # groups give way and the rest is counted.
    t = reported["total"]
    lines = late_block(chinese.body, "此后迟到的事件会改变的数字（15 项）：")
    assert lines[:3] == [
        f"回访率，合计：100.0% ({due}/{due}) → 100.0% ({due + 1}/{due + 1})",
        "回访率，客户 C-C：100.0% (1/1) → 100.0% (2/2)",
        "回访率，普通客户：100.0% (4/4) → 100.0% (5/5)"]
    answered = t["answered"]
    assert lines[3] == (f"回访成功率，合计：{answered / due:.1%} ({answered}/{due}) → "
                        f"{(answered + 1) / (due + 1):.1%} ({answered + 1}/{due + 1})")
    assert len(lines) == 13 and lines[-1] == "……另有 3 项"
    heads = [line.split("：")[0] for line in lines[:-1]]
    assert len(set(heads)) == len(heads)  # one line per figure and group
    assert sum("合计" in head for head in heads) == 5  # every total kept
    assert not any(word in chinese.body for word in ("numerator", "denominator", "total."))
    heading = "Late events since then that would change them (15):"
    assert late_block(english.body, heading)[:2] == [
        f"follow-up rate, total: 100.0% ({due}/{due}) → 100.0% ({due + 1}/{due + 1})",
        "follow-up rate, customer C-C: 100.0% (1/1) → 100.0% (2/2)"]
    console = settings_for(db_url, task_queue).public_url
    assert ("The full report in the console: "
            f"{console}/console/reports/follow-up-monthly?month=2026-11") in english.body
    assert f"在控制台查看完整报告：{console}/console/reports/follow-up-monthly?month=2026-11" \
        in chinese.body
    assert "GET /v1/" not in english.body + chinese.body
    assert "（0 项）" in inbox[2].body

    bodies = [r.body for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["report.follow_up_monthly"] * 2  # once per run
    # The documented payload keeps every key; no order is null, as escalation_id is.
    assert [(b["order_id"], b["escalation_id"]) for b in bodies] == [(None, None)] * 2
    assert bodies[0]["data"]["report"] == reported
    assert bodies[1]["data"]["late_change_count"] == 15
    assert bodies[1]["data"]["late_change_list"] == late.late_changes  # every changed value
    assert [f["figure"] for f in bodies[1]["data"]["late_figures"]] == [
        f["figure"] for f in late.late_figures]
    assert bodies[1]["message"]["body"] == chinese.body
    assert all(r.signature_ok for r in receiver.requests)


def test_the_report_reaches_the_team_in_the_language_its_members_read_and_subscribers_once(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        november(session)
        reads_english(session, "manager-en", "customer_service")
        create_key(session, "ops-li", "operator")  # the operator team: not the report's
        left, _ = create_key(session, "left", "operator", team="customer_service")
        left.revoked_at = datetime.now(UTC)  # a former member's language no longer counts
        subs_repo.create(session, "https://crm.example.invalid/hook",
                         [NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value], None, "test")
        assert team_locales(session, "customer_service") == ["en"]
        assert team_locales(session, "no-such-team") == ["zh-CN"]

    result = ReportActivities(sessions, settings_for(db_url, "tq-unused")).store_follow_up_report(
        StoreFollowUpReportInput(month="2026-11", as_of=AFTER_ALL))

    with sessions() as session:
        rows = {r.channel: r for r in session.scalars(select(OutboxRow))}
    assert sorted(rows) == ["inbox", "webhook"]
    inbox, webhook = rows["inbox"], rows["webhook"]
    # The team's copy is in its inbox already (written with the report); the webhook awaits
    # its delivery.
    assert result.outbox_ids == [webhook.id] and inbox.status == "delivered"
    assert (inbox.recipient, inbox.locale) == ("customer_service", "en")
    assert inbox.subject == "Monthly follow-up report 2026-11"
    assert "Follow-ups due in 2026-11: 6. Attempted: 6. Answered: 4." in inbox.body
    # A subscription chooses no language: it gets the default one, once.
    assert webhook.locale == "zh-CN" and webhook.payload["message"]["subject"] == "2026-11 回访月报"
    assert webhook.order_id is None and inbox.order_id is None
    assert webhook.payload["order_id"] is None


def test_the_report_words_exist_in_both_languages() -> None:
    paths = [TEMPLATE_DIR / locale / "report.follow_up_monthly.json" for locale in LOCALES]
    words = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    assert all(w.keys() == words[0].keys() for w in words)
    assert all(isinstance(v, str) and v for w in words for v in w.values())


def test_the_message_gives_satisfaction_per_question_the_top_problems_and_the_console_link(
        db_url: str, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        november(session)
        # today's survey questions, which the message names in words
        order(session, "O11", "C-B", "11-24T00:00", {
            "received": "11-21T00:00", "confirmed": "11-21T01:00", "picked": "11-21T02:00",
            "shipped": "11-22T00:00", "in_transit": "11-22T00:00", "delivered": "11-23T00:00",
            "followed_up": "11-24T02:00"}, carrier="SF", on_time=True, in_full=True,
            answer=Answer("11-24T02:00", {"timeliness": 2, "completeness": 5, "courtesy": 4},
                          problems=("low_score:timeliness",)))
        reads_english(session, "manager-en", "customer_service")
        subs_repo.create(session, "https://crm.example.invalid/hook",
                         [NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value], None, "test")
    settings = Settings(database_url=db_url, task_queue="tq-unused", business_timezone=ZONE,
                        public_base_url="https://waybill.example.com/")
    ReportActivities(sessions, settings).store_follow_up_report(
        StoreFollowUpReportInput(month="2026-11", as_of=AFTER_ALL))
    with sessions() as session:
        rows = {r.channel: r for r in session.scalars(select(OutboxRow))}
        report = snaps.get(session, snaps.SnapshotKind.FOLLOW_UP_MONTHLY, "2026-11")
        assert report is not None
    sat = report.body["total"]["satisfaction"]
    assert sat["timeliness"]["count"] == 1 and sat["arrival"]["count"] == 4
    link = "https://waybill.example.com/console/reports/follow-up-monthly?month=2026-11"
    english, chinese = rows["inbox"].body, rows["webhook"].payload["message"]["body"]

    def scores(question: str) -> str:
        return f"{sat[question]['mean']:.2f} ({sat[question]['count']})"

    assert late_block(english, "Satisfaction per question (mean, answers in brackets):") == [
        f"timeliness: {scores('timeliness')}", f"completeness: {scores('completeness')}",
        f"courtesy: {scores('courtesy')}",
        # a question of older surveys, as it was sent
        f"arrival: {scores('arrival')}", f"service: {scores('service')}"]
    assert late_block(chinese, "各问题满意度（平均分，括号内为答复数）：")[:3] == [
        f"时效：{scores('timeliness')}", f"完整性：{scores('completeness')}",
        f"服务态度：{scores('courtesy')}"]
    top = report.body["total"]["problems"][:3]
    # a suggestion is no problem (issue 18 §6): the third is the goods not in order
    assert [p["label"] for p in top] == ["low_score:arrival", "low_score:service",
                                         "goods_not_ok"]
    assert late_block(english, "Most frequent problems:") == [
        f"1. low score: arrival: {top[0]['count']} times",
        f"2. low score: service: {top[1]['count']} times",
        f"3. goods not in order on arrival: {top[2]['count']} times"]
    assert late_block(chinese, "最常见的问题：") == [
        f"1. 低分：arrival：{top[0]['count']} 次", f"2. 低分：service：{top[1]['count']} 次",
        f"3. 到货不完好：{top[2]['count']} 次"]
    assert english.rstrip().endswith(f"The full report in the console: {link}")
    assert chinese.rstrip().endswith(f"在控制台查看完整报告：{link}")
    # webhook consumers: the keys they read are all still there, the new ones beside them
    data = rows["webhook"].payload["data"]
    assert {"month", "due", "attempted", "answered", "follow_up_rate",
            "successful_follow_up_rate", "satisfaction", "late_change_list", "late_figures",
            "report", "late_change_count", "late_changes"} <= data.keys()
    assert data["report_url"] == link and data["report"] == report.body
    assert data["top_problems"].startswith("1. 低分：arrival")
