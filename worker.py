"""The Waybill worker: runs order workflows and their activities until told to stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.audit.checkpoint import CheckpointActivities
from activities.claim.projection import ClaimActivities
from activities.complaint.projection import ComplaintActivities
from activities.imports.batches import ImportActivities  # issue 19 §4
from activities.notify.deliver import NotifierActivities
from activities.notify.delivery_start import DeliveryStarter
from activities.notify.outbox_sweep import SweepActivities
from activities.order.projection import ProjectionActivities
from activities.reports.snapshots import ReportActivities
from activities.retention.redact import RetentionActivities
from api.edge.units import Db  # issue 19 §4: the import runner calls the API's order service
from api.imports.runner import ImportRunner
from archive import archive_from_settings
from config import Settings
from db.engine import make_engine, session_factory
from observability import database as db_metrics
from observability import serving as metrics
from schedules import ensure_schedules
from shared import tracing
from shared.sandbox import workflow_runner
from shared.temporal import connect
from shared.worker_slots import ACTIVITY_SLOTS, NEW_TASK_POLL_SHARE
from workflows.audit.checkpoint import AuditCheckpointWorkflow
from workflows.claim.workflow import ClaimWorkflow
from workflows.complaint.workflow import ComplaintWorkflow
from workflows.escalation.workflow import EscalationWorkflow
from workflows.imports.workflow import OrderImportWorkflow  # issue 19 §4
from workflows.notify.delivery import DeliveryWorkflow
from workflows.notify.outbox_sweep import OutboxSweepWorkflow
from workflows.order.workflow import OrderWorkflow
from workflows.reports.workflow import DailyKpiSnapshotWorkflow, FollowUpMonthlyReportWorkflow
from workflows.retention.workflow import PersonalDataRetentionWorkflow

log = logging.getLogger("waybill.worker")

WORKFLOWS = [OrderWorkflow, EscalationWorkflow, ComplaintWorkflow, ClaimWorkflow,
             DailyKpiSnapshotWorkflow, FollowUpMonthlyReportWorkflow, DeliveryWorkflow,
             OutboxSweepWorkflow,
             AuditCheckpointWorkflow,  # issue 17 §3
             PersonalDataRetentionWorkflow,  # issue 17 §6
             OrderImportWorkflow]  # issue 19 §4


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """The worker's deployment version from settings; None (unversioned) when unset."""
    if settings.deployment_name is None or settings.build_id is None:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(settings.deployment_name, settings.build_id),
        use_worker_versioning=True,
        # Orders live for weeks: pinning each to the build it started on would keep every old
        # worker running until its last order closes. Workflows move to the current version at
        # their next task instead, which is safe because changes go behind workflow.patched and
        # `waybill replay` checks open histories against the new code before it is made current.
        default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
    )


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
    checkpoints = CheckpointActivities(sessions, settings)  # issue 17 §3
    retention = RetentionActivities(sessions, settings)  # issue 17 §6
    # Issue 19 §4: bulk import creates orders through the API's own order service (its rules,
    # idempotency and workflow start), handed to the activities from here.
    imports = ImportActivities(ImportRunner(Db(sessions), client, settings,
                                            archive_from_settings(settings)))
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(),
        activities=[projections.project_order, projections.project_order_change,
                    projections.project_escalation,
                    notifier.deliver, complaints.project_complaint,
                    claims.project_claim, reports.previous_period,
                    reports.store_daily_kpis, reports.store_follow_up_report,
                    sweep.sweep_outbox,
                    checkpoints.seal_checkpoint,
                    retention.redact_due,
                    imports.import_batch, imports.finish_import],  # issue 19 §4
        activity_executor=executor,
        max_concurrent_activities=ACTIVITY_SLOTS,
        nonsticky_to_sticky_poll_ratio=NEW_TASK_POLL_SHARE,
        # Let in-flight activities finish on shutdown rather than be retried elsewhere.
        graceful_shutdown_timeout=timedelta(seconds=10),
        deployment_config=deployment_config(settings),
    )


async def run(settings: Settings) -> None:
    # Traces (off by default): the client's interceptor also traces this worker's workflows
    # and activities, so nothing more is given to the Worker.
    tracer_provider = tracing.tracer_provider(settings, "waybill-worker")
    client = await connect(settings, tracer_provider=tracer_provider, runtime=metrics.sdk_runtime(
        settings.metrics_host, settings.worker_temporal_metrics_port,
        "WAYBILL_WORKER_TEMPORAL_METRICS_PORT"))
    await ensure_schedules(client, settings.task_queue, settings.business_timezone)
    engine = make_engine(settings.db_url)
    db_metrics.count_pool_timeouts(engine)
    # The database's counts are served by the worker (not the API): one place, scaled apart.
    endpoint = metrics.serve(settings.metrics_host, settings.worker_metrics_port, [
        db_metrics.PoolCollector(engine),
        db_metrics.DatabaseCollector(session_factory(engine), settings.metrics_cache_seconds)],
        "WAYBILL_WORKER_METRICS_PORT")
    with ThreadPoolExecutor(max_workers=ACTIVITY_SLOTS) as executor:
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
    if endpoint:
        endpoint.stop()
    engine.dispose()
    if tracer_provider is not None:
        tracer_provider.shutdown()  # flushes the spans still batched
