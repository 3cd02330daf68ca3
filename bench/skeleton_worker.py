"""The skeleton's activity and worker process (`python -m bench.skeleton_worker`).

The activity writes what OrderWorkflow's projection writes on the happy path, in the same
database through the same engine settings: the order's row (upsert, the newer sequence wins)
and one timeline row per new entry (keyed by event id), in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

import logs
from bench.skeleton_types import SkeletonProjection
from db.engine import make_engine
from shared.worker_slots import ACTIVITY_SLOTS, NEW_TASK_POLL_SHARE

log = logging.getLogger("waybill.bench.skeleton")

# The bench's own tables, not the application's (whose schema only migrations make): created
# here, in the throwaway database the benchmark starts.
METADATA = MetaData()
ORDERS = Table("bench_skeleton_orders", METADATA,
               Column("order_id", String(64), primary_key=True),
               Column("stage", String(32), nullable=False),
               Column("survey", String(16)),
               Column("seq", Integer, nullable=False),
               Column("updated_at", DateTime(timezone=True), nullable=False))
TIMELINE = Table("bench_skeleton_timeline", METADATA,
                 Column("order_id", String(64), primary_key=True),
                 Column("event_id", String(128), primary_key=True),
                 Column("type", String(32), nullable=False),
                 Column("occurred_at", DateTime(timezone=True), nullable=False),
                 Column("recorded_at", DateTime(timezone=True), nullable=False))


class SkeletonActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    @activity.defn
    def project_skeleton(self, inp: SkeletonProjection) -> None:
        """Upsert keyed by order id and sequence, timeline rows by event id: safe to retry."""
        now = datetime.now(UTC)
        row = {"order_id": inp.order_id, "stage": inp.stage, "survey": inp.survey,
               "seq": inp.seq, "updated_at": now}
        upsert = self._insert(ORDERS).values(row)
        upsert = upsert.on_conflict_do_update(
            index_elements=[ORDERS.c.order_id], set_={k: upsert.excluded[k] for k in row},
            where=ORDERS.c.seq < upsert.excluded.seq)
        with self._engine.begin() as conn:
            conn.execute(upsert)
            if inp.entries:
                conn.execute(self._insert(TIMELINE).values([
                    {"order_id": inp.order_id, "event_id": e.event_id, "type": e.type,
                     "occurred_at": e.occurred_at, "recorded_at": now} for e in inp.entries
                ]).on_conflict_do_nothing())


async def run(address: str, task_queue: str, db_url: str) -> None:
    from bench.skeleton import SkeletonOrderWorkflow

    client = await Client.connect(address)
    engine = make_engine(db_url)
    METADATA.create_all(engine)
    activities = SkeletonActivities(engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The Waybill worker's executor and concurrency (worker.py), so only the work differs.
    with ThreadPoolExecutor(max_workers=ACTIVITY_SLOTS) as executor:
        async with Worker(client, task_queue=task_queue, workflows=[SkeletonOrderWorkflow],
                          activities=[activities.project_skeleton], activity_executor=executor,
                          max_concurrent_activities=ACTIVITY_SLOTS,
                          nonsticky_to_sticky_poll_ratio=NEW_TASK_POLL_SHARE,
                          graceful_shutdown_timeout=timedelta(seconds=10)):
            log.info("skeleton worker started", extra={"task_queue": task_queue})
            await stop.wait()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()
    logs.configure(args.log_level)
    asyncio.run(run(args.address, args.task_queue, args.db_url))


if __name__ == "__main__":
    main()
