"""Shared fixtures: real Temporal servers, real databases built by the real migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, session_factory
from db.migrate import upgrade
from devstack import DEV_SERVER_TUNING
from shared.temporal import ensure_search_attributes
from tests.support.api_harness import Api, StackFactory, stack_factory
from tests.support.browser import browser, site  # noqa: F401 - fixtures for every module
from tests.support.codec import TEST_CONVERTER
from tests.support.order_workflow_harness import NewOrder, reach, start
from tests.support.pg import throwaway_postgres
from tests.support.worker_harness import running_worker
from workflows.order import search
from workflows.order.types import Stage

# The test stacks' webhook receivers listen on http://127.0.0.1, as `waybill dev` allows
# (devstack.DEV_ENV); tests of the target rule (tests/activities/notify/test_webhook_targets.py)
# set both settings themselves. Set before any Settings() is built, and inherited by child
# processes.
os.environ.setdefault("WAYBILL_WEBHOOKS_REQUIRE_HTTPS", "false")
os.environ.setdefault("WAYBILL_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true")


# The fixtures that bring up part of the stack: a test that needs none of them (directly or
# through another fixture) is a unit test, and `make test-fast` (`pytest -m unit`) runs it.
# A new stack fixture goes here, or its tests would land in the fast tier (the guard below
# then fails them, so the list cannot silently go stale for processes and Temporal servers).
STACK_FIXTURES = frozenset({
    "ts_env", "dev_env",                                   # Temporal servers
    "pg_server", "pg_template", "pg_url", "db_url", "engine",  # migrated databases
    "db_kind", "module_db_url", "sqlite_template", "sqlite_url",
    "browser",                                             # Chromium (tests/support/browser.py)
    "s3_endpoint",                                         # moto's S3 server
})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "unit: needs no stack (set automatically from the fixtures a test uses)")
    config.addinivalue_line(
        "markers", "e2e: slow end to end (its own processes, a browser, a month of traffic); "
                   "`-m 'not e2e'` leaves them out")
    config.addinivalue_line(
        "markers", "one_engine: no SQL under test: the database fixtures give SQLite only")
    config.addinivalue_line(
        "markers", "shared_stack: the module's tests share one `api` stack per engine")
    config.addinivalue_line(
        "markers", "validation: checks only request validation or an error envelope, with unique "
                   "ids: one_engine and shared_stack")


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that reaches a database through db_url (directly or through `api`,
    `sessions`, `engine`) runs on both engines, unless marked `one_engine`."""
    if "db_kind" in metafunc.fixturenames:
        one = any(metafunc.definition.get_closest_marker(name) is not None
                  for name in ("one_engine", "validation"))
        metafunc.parametrize("db_kind", ENGINES[:1] if one else ENGINES, scope="module")


TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "browser" in fixtures or item.path.relative_to(TESTS).parts[0] == "e2e":
            item.add_marker(pytest.mark.e2e)
        if not fixtures & STACK_FIXTURES and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.unit)
    # Longest first: `make test` hands tests to its workers one by one (--maxschedchunk=1), so
    # the minutes-long end-to-end tests start at once instead of ending the run on one worker
    # while the other idles. Stable: modules keep their order, and their shared fixtures.
    items.sort(key=lambda item: 0 if item.get_closest_marker("e2e")
               else 2 if item.get_closest_marker("unit") else 1)


class StackInUnitTest(AssertionError):
    """A test classified as unit started part of the stack."""


@pytest.fixture(autouse=True)
def _unit_tests_start_no_stack(request: pytest.FixtureRequest,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A unit test that starts a process or a Temporal server fails at once, naming the fix,
    instead of quietly making the fast tier slow."""
    if request.node.get_closest_marker("unit") is None:
        return

    def refuse(what: str) -> Callable[..., NoReturn]:
        def refused(*args: object, **kwargs: object) -> NoReturn:
            raise StackInUnitTest(
                f"{request.node.nodeid} starts {what} but is classified as unit: use a stack "
                "fixture (tests/conftest.py STACK_FIXTURES) or mark it @pytest.mark.e2e")
        return refused

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("a process"))
    monkeypatch.setattr(WorkflowEnvironment, "start_local", refuse("a Temporal dev server"))
    monkeypatch.setattr(WorkflowEnvironment, "start_time_skipping",
                        refuse("a Temporal test server"))


def _binary(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.prefix) / "bin" / name)
    if not Path(path).exists():
        raise RuntimeError(f"{name} not found: it comes with the package's dev dependencies")
    return path


@pytest.fixture
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: day-scale timers pass in moments.

    One server per test (it starts in about 0.2 s): a workflow a test leaves behind (a ladder,
    an abandoned child) whose timer fires with no worker polling its task queue holds the
    skipping clock, and the next test on a shared server stalls; the test server cannot list
    workflows (no ListWorkflowExecutions) to end them between tests, and its clock never goes
    back for the next test.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"), data_converter=TEST_CONVERTER)
    await ensure_search_attributes(env.client, "default", search.ALL)
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
        dev_server_extra_args=DEV_SERVER_TUNING,
        data_converter=TEST_CONVERTER,
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
    """A database migrated once; each test copies it, which is faster than migrating again.

    One per pytest-xdist worker (gw0, gw1 ...): workers may share a WAYBILL_TEST_POSTGRES_URL.
    """
    name = f"waybill_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = make_url(pg_server).set(database=name).render_as_string(False)
    upgrade(url)
    return url


@pytest.fixture
def db_url(db_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated application database, on each engine (`db_kind`) the test runs on."""
    if db_kind == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="module")
def module_db_url(db_kind: str, request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like db_url, one per module (and engine): the database of a module's shared stack."""
    if db_kind == "sqlite":
        yield sqlite_copy(request.getfixturevalue("sqlite_template"),
                          tmp_path_factory.mktemp("module-db"))
        return
    with pg_copy(request.getfixturevalue("pg_server"),
                 request.getfixturevalue("pg_template")) as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str, pg_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database copied from this worker's migrated template."""
    with pg_copy(pg_server, pg_template) as url:
        yield url


@contextmanager
def pg_copy(pg_server: str, pg_template: str) -> Iterator[str]:
    template = make_url(pg_template).database
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    yield make_url(pg_server).set(database=name).render_as_string(False)
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once, like pg_template: a copy takes a millisecond, running
    the migrations again a tenth of a second per test."""
    path = tmp_path_factory.mktemp("sqlite-template") / "waybill.db"
    upgrade(f"sqlite:///{path}")
    return path


def sqlite_copy(template: Path, tmp_path: Path) -> str:
    """The URL of a copy of `template` in `tmp_path`, made with SQLite's backup API, which
    copies what a WAL file still holds too."""
    target = tmp_path / "waybill.db"
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    return sqlite_copy(sqlite_template, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4().hex[:10]}"


# -- the app: one stack factory --------------------------------------------------------------
#
# `api`: the app in process (a real database, the Temporal dev server, a worker). A module that
# needs other settings (a policy, limits, seeded rows, no worker) overrides `stack_options`
# (module-scoped), e.g. `return {"policy": FAST_LADDER, "worker": False, "seed": fx.november}`;
# `pytestmark = pytest.mark.shared_stack` gives the module one stack per engine instead of one per
# test (for modules whose tests use unique ids and read no global counts). A test that needs a
# second stack or special settings calls `make_stack(db_url, **options)` itself.
#
# Which database:
# - SQL under test (repositories, migrations, KPIs, the order/claim/complaint paths'
#   persistence): `db_url` / `sessions` / `engine` / `api`, run on both engines (`db_kind`).
# - No SQL under test (auth, pages, workflows whose projection is checked elsewhere): mark the
#   test or module `@pytest.mark.one_engine` (SQLite only), or take `sqlite_url` directly.
# - Only request validation or an error envelope, on ids of its own:
#   `@pytest.mark.validation` (one_engine, and the module's shared stack: no stack per case).
# - PostgreSQL's own behaviour (a stopped server, its pool): `pg_url`.


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    """What `api` builds, as make_stack's keywords: a module overrides this fixture."""
    return {}


@pytest.fixture
def make_stack(dev_env: WorkflowEnvironment, task_queue: str, tmp_path: Path) -> StackFactory:
    """`async with make_stack(db_url, **options) as api`: a stack of the test's own, on the
    test's task queue and data directory (a second one started in the same test shares both,
    as a restarted API would)."""
    return stack_factory(dev_env.client, task_queue, tmp_path)


@pytest.fixture
async def test_stack(request: pytest.FixtureRequest, make_stack: StackFactory,
                     stack_options: dict[str, Any]) -> AsyncIterator[Api]:
    async with make_stack(request.getfixturevalue("db_url"), **stack_options) as stack:
        yield stack


@pytest.fixture(scope="module")
async def module_stack(dev_env: WorkflowEnvironment, module_db_url: str,
                       stack_options: dict[str, Any],
                       tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    make = stack_factory(dev_env.client, f"tq-{uuid.uuid4().hex[:10]}",
                         tmp_path_factory.mktemp("stack"))
    async with make(module_db_url, **stack_options) as stack:
        yield stack


@pytest.fixture
def api(request: pytest.FixtureRequest, db_kind: str) -> Api:
    """The app for this test (or its module's shared one: `shared_stack`), on `db_kind`."""
    shared = any(request.node.get_closest_marker(name) is not None
                 for name in ("shared_stack", "validation"))
    return cast(Api, request.getfixturevalue("module_stack" if shared else "test_stack"))


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's migrated database (both engines), for tests that read or seed
    rows themselves."""
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
async def new_order(ts_env: WorkflowEnvironment, sqlite_url: str,
                    task_queue: str) -> AsyncIterator[NewOrder]:
    """`await new_order(stage, **order_input_kw)`: start an order on a live worker, bring it to
    `stage` (default: just received) and return its handle."""

    async def new(stage: Stage = Stage.RECEIVED, **kw: Any) -> WorkflowHandle:
        handle = await start(ts_env, ts_env.client, task_queue, **kw)
        await reach(ts_env, handle, stage)
        return handle

    async with running_worker(ts_env.client, sqlite_url, task_queue):
        yield new
