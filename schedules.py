"""The Schedules, created at worker start: idempotent, safe to run on every start.

* `waybill-daily-kpi-snapshot`: 00:30 business zone, snapshots the day before;
* `waybill-follow-up-monthly-report`: the 1st at 06:00 business zone, reports the month before;
* `waybill-outbox-sweep`: every 5 minutes, re-drives outbox rows no delivery is looking after
  (left pending by a terminated workflow, or claimed by a worker that died). A missed sweep is
  not caught up: the next one does its work.
* `waybill-audit-checkpoint`: every 15 minutes, signs the heads of the audit chains that moved
  (issue 17 §3). A missed one is not caught up either: the next one seals what moved.
* `waybill-personal-data-retention`: 03:15 business zone daily, redacts the personal data of
  orders closed longer than `personal_data_retention_days` (issue 17 §6).

An existing schedule is updated to the current spec and action (e.g. after the business zone or
task queue changed); its pause state and history are kept. Overlapping runs are skipped, and a
run missed while Temporal was down is caught up within a day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from workflows.audit.checkpoint import AuditCheckpointWorkflow
from workflows.audit.types import CheckpointInput
from workflows.notify.outbox_sweep import OutboxSweepWorkflow
from workflows.notify.types import SweepInput
from workflows.reports.types import DailyKpiSnapshotInput, FollowUpMonthlyReportInput
from workflows.reports.workflow import DailyKpiSnapshotWorkflow, FollowUpMonthlyReportWorkflow
from workflows.retention.types import RetentionInput
from workflows.retention.workflow import PersonalDataRetentionWorkflow

log = logging.getLogger("waybill.schedules")

DAILY_SNAPSHOT_ID = "waybill-daily-kpi-snapshot"
MONTHLY_REPORT_ID = "waybill-follow-up-monthly-report"
OUTBOX_SWEEP_ID = "waybill-outbox-sweep"
SWEEP_EVERY = timedelta(minutes=5)
AUDIT_CHECKPOINT_ID = "waybill-audit-checkpoint"  # issue 17 §3
CHECKPOINT_EVERY = timedelta(minutes=15)
RETENTION_ID = "waybill-personal-data-retention"  # issue 17 §6
SCHEDULE_IDS = (DAILY_SNAPSHOT_ID, MONTHLY_REPORT_ID, OUTBOX_SWEEP_ID, AUDIT_CHECKPOINT_ID,
                RETENTION_ID)


@dataclass(frozen=True)
class _Wanted:
    schedule_id: str
    workflow: Any
    arg: Any
    calendar: ScheduleCalendarSpec | None = None
    every: timedelta | None = None
    catchup_window: timedelta = timedelta(days=1)


def _wanted() -> list[_Wanted]:
    return [
        _Wanted(DAILY_SNAPSHOT_ID, DailyKpiSnapshotWorkflow.run, DailyKpiSnapshotInput(),
                ScheduleCalendarSpec(hour=[ScheduleRange(0)], minute=[ScheduleRange(30)],
                                     comment="00:30 daily: the day before")),
        _Wanted(MONTHLY_REPORT_ID, FollowUpMonthlyReportWorkflow.run,
                FollowUpMonthlyReportInput(),
                ScheduleCalendarSpec(day_of_month=[ScheduleRange(1)], hour=[ScheduleRange(6)],
                                     comment="06:00 on the 1st: the month before")),
        _Wanted(OUTBOX_SWEEP_ID, OutboxSweepWorkflow.run, SweepInput(), every=SWEEP_EVERY,
                catchup_window=timedelta(minutes=1)),
        _Wanted(AUDIT_CHECKPOINT_ID, AuditCheckpointWorkflow.run, CheckpointInput(),
                every=CHECKPOINT_EVERY, catchup_window=timedelta(minutes=1)),
        _Wanted(RETENTION_ID, PersonalDataRetentionWorkflow.run, RetentionInput(),
                ScheduleCalendarSpec(hour=[ScheduleRange(3)], minute=[ScheduleRange(15)],
                                     comment="03:15 daily: redact what passed the period")),
    ]


def _schedule(w: _Wanted, task_queue: str, timezone: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(w.workflow, w.arg, id=f"{w.schedule_id}-run",
                                           task_queue=task_queue),
        spec=ScheduleSpec(calendars=[w.calendar] if w.calendar else [],
                          intervals=[ScheduleIntervalSpec(every=w.every)] if w.every else [],
                          time_zone_name=timezone),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP,
                              catchup_window=w.catchup_window))


async def ensure_schedules(client: Client, task_queue: str, timezone: str) -> list[str]:
    """Create the schedules, or bring existing ones up to date; returns their ids."""
    ids = []
    for w in _wanted():
        wanted = _schedule(w, task_queue, timezone)
        try:
            await client.create_schedule(w.schedule_id, wanted)
            log.info("schedule created", extra={"schedule_id": w.schedule_id})
        except ScheduleAlreadyRunningError:
            def update(current: ScheduleUpdateInput, wanted: Schedule = wanted) -> ScheduleUpdate:
                wanted.state = current.description.schedule.state  # keep a pause an admin set
                return ScheduleUpdate(schedule=wanted)

            await client.get_schedule_handle(w.schedule_id).update(update)
            log.info("schedule updated", extra={"schedule_id": w.schedule_id})
        ids.append(w.schedule_id)
    return ids
