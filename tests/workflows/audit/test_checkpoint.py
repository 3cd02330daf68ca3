"""The audit checkpoint workflow on a real worker: it seals the chains that moved with the
data directory's generated key, and the next run has nothing to seal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from config import Settings
from db.audit.queries import verify
from db.engine import make_engine, session_factory
from db.orders.queries import add_timeline_entries
from shared.audit_keys import FILE_KEY_ID, verifying_keys
from tests.support.worker_harness import running_worker
from workflows.audit.checkpoint import AuditCheckpointWorkflow
from workflows.audit.types import CheckpointInput, CheckpointResult
from workflows.order.types import TimelineEntry

AT = datetime(2026, 12, 5, 7, tzinfo=UTC)


async def test_a_checkpoint_run_seals_what_moved_once(dev_env: WorkflowEnvironment,
                                                      sqlite_url: str, task_queue: str,
                                                      tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        for order_id in ("A-1", "A-2"):
            add_timeline_entries(session, order_id, [TimelineEntry(
                event_id="e1", type="note", occurred_at=AT, recorded_at=AT)])
    settings = Settings(database_url=sqlite_url, task_queue=task_queue, data_dir=tmp_path)
    try:
        async with running_worker(dev_env.client, sqlite_url, task_queue, settings):
            async def run() -> CheckpointResult:
                return await dev_env.client.execute_workflow(
                    AuditCheckpointWorkflow.run, CheckpointInput(),
                    id=f"checkpoint-{uuid.uuid4().hex[:8]}", task_queue=task_queue)
            first = await run()
            assert first.checkpoint_id is not None and first.heads == 2
            assert await run() == CheckpointResult()  # nothing moved since
        keys = verifying_keys(settings)
        assert list(keys) == [FILE_KEY_ID]
        with sessions() as session:
            assert all(verify(session, o, keys).ok for o in ("A-1", "A-2"))
    finally:
        engine.dispose()
