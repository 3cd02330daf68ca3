"""Scheduled reports: the daily KPI snapshot and the monthly follow-up report (回访月报).

Started by the Schedules in schedules.py. The period is the business-zone day or month before
the moment the schedule fired (`workflow.now()`), unless the input names one, so a run started
late, or re-run by hand, still reports the period it was meant for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notify.deliver import DELIVERY_RETRY, DELIVERY_TIMEOUT, NotifierActivities
    from activities.reports.snapshots import ReportActivities
    from workflows.notify.delivery import DELIVERY_WORKFLOWS_PATCH
    from workflows.notify.types import DeliverInput
    from workflows.reports.types import (
        DailyKpiSnapshotInput,
        FollowUpMonthlyReportInput,
        PreviousPeriodInput,
        SnapshotResult,
        StoreDailyKpisInput,
        StoreFollowUpReportInput,
    )

STORE_TIMEOUT = timedelta(minutes=5)
STORE_RETRY = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(
    minutes=2))


PERIOD_TIMEOUT = timedelta(seconds=30)


async def _previous(unit: str, now: datetime) -> str:
    # Time zones (zoneinfo) and settings stay outside the sandbox: an activity reads them, and
    # its answer is recorded in the history, so a replay derives the same period.
    return await workflow.execute_activity_method(
        ReportActivities.previous_period, PreviousPeriodInput(unit=unit, now=now),
        start_to_close_timeout=PERIOD_TIMEOUT)


@workflow.defn
class DailyKpiSnapshotWorkflow:
    @workflow.run
    async def run(self, inp: DailyKpiSnapshotInput) -> SnapshotResult:
        now = workflow.now()
        day = inp.day or await _previous("day", now)
        return await workflow.execute_activity_method(
            ReportActivities.store_daily_kpis, StoreDailyKpisInput(day=day, as_of=inp.as_of or now),
            start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY)


@workflow.defn
class FollowUpMonthlyReportWorkflow:
    @workflow.run
    async def run(self, inp: FollowUpMonthlyReportInput) -> SnapshotResult:
        now = workflow.now()
        month = inp.month or await _previous("month", now)
        result = await workflow.execute_activity_method(
            ReportActivities.store_follow_up_report,
            StoreFollowUpReportInput(month=month, as_of=inp.as_of or now),
            start_to_close_timeout=STORE_TIMEOUT, retry_policy=STORE_RETRY)
        if workflow.patched(DELIVERY_WORKFLOWS_PATCH):
            return result  # the activity started a DeliveryWorkflow per outbox row
        for outbox_id in result.outbox_ids:
            result.delivered.append(await workflow.execute_activity_method(
                NotifierActivities.deliver, DeliverInput(outbox_id=outbox_id),
                start_to_close_timeout=DELIVERY_TIMEOUT, retry_policy=DELIVERY_RETRY))
        return result
