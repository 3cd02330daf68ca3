"""A real worker (every workflow and activity) on a test's task queue and database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from temporalio.client import Client
from temporalio.worker import Worker

from config import Settings
from db.engine import make_engine, session_factory
from shared.worker_slots import ACTIVITY_SLOTS
from worker import build_worker


@asynccontextmanager
async def running_worker(client: Client, url: str, task_queue: str,
                         settings: Settings | None = None) -> AsyncIterator[Worker]:
    eng = make_engine(url)
    with ThreadPoolExecutor(max_workers=ACTIVITY_SLOTS) as executor:
        worker = build_worker(client, session_factory(eng), task_queue, executor,
                              settings or Settings(database_url=url, task_queue=task_queue))
        async with worker:
            yield worker
    eng.dispose()
