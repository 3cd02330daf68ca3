"""Shared fixtures: real Temporal servers, real databases built by the real migrations."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config import Settings
from db.engine import make_engine, session_factory
from db.migrate import upgrade
from tests.pg import throwaway_postgres
from worker import build_worker, ensure_search_attributes
from workflows import search

# The test stacks' webhook receivers listen on http://127.0.0.1, as `waybill dev` allows
# (devstack.DEV_ENV); tests of the target rule (tests/test_webhook_targets.py) set both
# settings themselves. Set before any Settings() is built, and inherited by child processes.
os.environ.setdefault("WAYBILL_WEBHOOKS_REQUIRE_HTTPS", "false")
os.environ.setdefault("WAYBILL_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")


def _binary(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.prefix) / "bin" / name)
    if not Path(path).exists():
        raise RuntimeError(f"{name} not found: it comes with the package's dev dependencies")
    return path


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: day-scale timers pass in moments.

    One server per test: workflows a test leaves behind (ladders keep their own timers) would
    otherwise share the skipping clock with the next test and can stall it.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"))
    await ensure_search_attributes(env.client, "default")
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's dev server (the same binary `make run` uses), with our search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        search_attributes=list(search.ALL),
        ui=False,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    existing = os.environ.get("WAYBILL_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    """A database migrated once; each test copies it, which is faster than migrating again."""
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS waybill_template"))
        conn.execute(text("CREATE DATABASE waybill_template"))
    admin.dispose()
    url = make_url(pg_server).set(database="waybill_template").render_as_string(False)
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated application database: every SQL test runs on both engines."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'waybill.db'}"
        upgrade(url)
        yield url
        return
    server = request.getfixturevalue("pg_server")
    request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE waybill_template"))
    yield make_url(server).set(database=name).render_as_string(False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'waybill.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def running_worker(client: Client, url: str, task_queue: str,
                         settings: Settings | None = None) -> AsyncIterator[Worker]:
    eng = make_engine(url)
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = build_worker(client, session_factory(eng), task_queue, executor,
                              settings or Settings(database_url=url, task_queue=task_queue))
        async with worker:
            yield worker
    eng.dispose()
