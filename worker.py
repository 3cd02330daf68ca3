"""The Waybill worker: runs order workflows and their activities until told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.claim.projection import ClaimActivities
from activities.complaint.projection import ComplaintActivities
from activities.notify.deliver import NotifierActivities
from activities.notify.delivery_start import DeliveryStarter
from activities.notify.outbox_sweep import SweepActivities
from activities.order.projection import ProjectionActivities
from activities.reports.snapshots import ReportActivities
from config import Settings
from db.engine import make_engine, session_factory
from schedules import ensure_schedules
from shared.temporal import connect
from workflows.claim.workflow import ClaimWorkflow
from workflows.complaint.workflow import ComplaintWorkflow
from workflows.escalation.workflow import EscalationWorkflow
from workflows.notify.delivery import DeliveryWorkflow
from workflows.notify.outbox_sweep import OutboxSweepWorkflow
from workflows.order.workflow import OrderWorkflow
from workflows.reports.workflow import DailyKpiSnapshotWorkflow, FollowUpMonthlyReportWorkflow

log = logging.getLogger("waybill.worker")

WORKFLOWS = [OrderWorkflow, EscalationWorkflow, ComplaintWorkflow, ClaimWorkflow,
             DailyKpiSnapshotWorkflow, FollowUpMonthlyReportWorkflow, DeliveryWorkflow,
             OutboxSweepWorkflow]


def build_worker(client: Client, sessions: sessionmaker[Session], task_queue: str,
                 executor: ThreadPoolExecutor, settings: Settings | None = None) -> Worker:
    settings = settings or Settings()
    # Projections start a DeliveryWorkflow per outbox row they wrote, on this task queue.
    starter = DeliveryStarter(client, task_queue)
    projections = ProjectionActivities(sessions, settings, starter)
    notifier = NotifierActivities(sessions, settings)
    complaints = ComplaintActivities(sessions, starter)
    claims = ClaimActivities(sessions, starter)
    reports = ReportActivities(sessions, settings, starter)
    sweep = SweepActivities(sessions, starter)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[projections.project_order, projections.project_escalation,
                    notifier.deliver, complaints.project_complaint,
                    claims.project_claim, reports.previous_period,
                    reports.store_daily_kpis, reports.store_follow_up_report,
                    sweep.sweep_outbox],
        activity_executor=executor,
        max_concurrent_activities=8,
        # Let in-flight projections finish on shutdown rather than be retried elsewhere.
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def run(settings: Settings) -> None:
    client = await connect(settings)
    await ensure_schedules(client, settings.task_queue, settings.business_timezone)
    engine = make_engine(settings.db_url)
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(client, session_factory(engine), settings.task_queue, executor,
                              settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with worker:
            log.info("worker started", extra={"task_queue": settings.task_queue})
            await stop.wait()
            log.info("worker stopping")
    engine.dispose()
