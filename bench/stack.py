"""The stack `bench.throughput` runs against, started and stopped by it on free loopback ports.

A Temporal dev server on a temp file database (devstack.start_temporal, as `waybill dev` runs
it), the application database migrated (SQLite in the temp directory, or a throwaway
PostgreSQL with durable settings), Waybill's worker and API as `waybill dev` runs them
(`python -m cli worker|api`), and the skeleton's worker on its own task queue. Every child's
output goes to a log file in the temp directory, named in any failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

import devstack
from config import REPO_ROOT, Settings
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.migrate import upgrade
from policies import DURATION_KEYS
from tests.support.pg import free_port, throwaway_postgres

READY_WITHIN = 120.0  # seconds for the API to answer /readyz on a loaded 2-core machine


class StackFailed(Exception):
    pass


@dataclass(frozen=True)
class Stack:
    api_url: str
    key: str
    temporal_target: str
    skeleton_queue: str
    survey_after: float
    logs: Path
    pids: dict[str, int]  # by process name: temporal, worker, api, skeleton-worker


def policy_file(path: Path, survey_after: float) -> Path:
    """`standard` with deadlines far beyond a run (no breach, no escalation on the happy
    path) and the survey due `survey_after` seconds after delivery, so orders close fast."""
    durations = {key: "PT6H" for key in DURATION_KEYS}
    durations["survey_after"] = f"PT{survey_after:g}S"
    body = "".join(f"    {k}: {v}\n" for k, v in durations.items())
    path.write_text(f"policies:\n  standard:\n{body}")
    return path


def _child_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    env.update(devstack.DEV_ENV)  # the soak's webhook receiver is on http://127.0.0.1
    env.update(WAYBILL_DATA_DIR=str(settings.data_dir), WAYBILL_DATABASE_URL=settings.db_url,
               WAYBILL_TEMPORAL_ADDRESS=settings.temporal_target,
               WAYBILL_TASK_QUEUE=settings.task_queue, WAYBILL_API_PORT=str(settings.api_port),
               WAYBILL_SLA_POLICIES=str(settings.sla_policies), WAYBILL_LOG_LEVEL="WARNING",
               # `python -m bench.skeleton_worker` from any working directory
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                        env.get("PYTHONPATH")])))
    return env


def _wait_ready(api_url: str, procs: list[tuple[str, subprocess.Popen[bytes]]],
                logs: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while True:
        for name, proc in procs:
            if proc.poll() is not None:
                raise StackFailed(f"the {name} exited with code {proc.returncode} while "
                                  f"starting; see {logs / name}.log")
        try:
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise StackFailed(f"the API did not become ready in {READY_WITHIN:g} s; see {logs}")
        time.sleep(0.5)


def _api_key(db_url: str, role: str) -> str:
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as session:
        _, key = create_key(session, f"bench-{role}", role)
    engine.dispose()
    return key


@contextmanager
def bench_stack(db: str, survey_after: float, role: str = "integration") -> Iterator[Stack]:
    """Start everything; stop it all (and remove the temp directory) on the way out. The key
    is of `role` (bench/imports.py needs an operator's: integrations do not import files)."""
    base = Path(tempfile.mkdtemp(prefix="waybill-bench-"))
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    with ExitStack() as stack:
        # Undone in reverse: the children stop, then PostgreSQL, then the directory goes.
        stack.callback(shutil.rmtree, base, ignore_errors=True)
        db_url = (stack.enter_context(throwaway_postgres(durable=True)) if db == "postgresql"
                  else f"sqlite:///{base / 'waybill.db'}")
        stack.callback(devstack.stop, procs)
        settings = Settings(
            data_dir=base, database_url=db_url, temporal_port=free_port(),
            temporal_ui_port=free_port(), api_port=free_port(),
            sla_policies=policy_file(base / "bench.yaml", survey_after),
            task_queue=f"bench-waybill-{uuid.uuid4().hex[:8]}")
        upgrade(db_url)
        key = _api_key(db_url, role)

        def start(name: str, args: list[str]) -> subprocess.Popen[bytes]:
            out = stack.enter_context((base / f"{name}.log").open("wb"))
            proc = (devstack.start_temporal(settings, out) if name == "temporal"
                    else devstack.spawn(args, env, out))
            procs.append((name, proc))
            return proc

        env = _child_env(settings)
        try:
            start("temporal", [])
        except RuntimeError as exc:
            raise StackFailed(f"{exc}; see {base / 'temporal.log'}") from None
        asyncio.run(devstack.register_search_attributes(settings))
        skeleton_queue = f"bench-skeleton-{uuid.uuid4().hex[:8]}"
        start("worker", [sys.executable, "-m", "cli", "worker"])
        start("api", [sys.executable, "-m", "cli", "api"])
        start("skeleton-worker", [sys.executable, "-m", "bench.skeleton_worker",
                                  "--address", settings.temporal_target,
                                  "--task-queue", skeleton_queue, "--db-url", db_url])
        api_url = f"http://127.0.0.1:{settings.api_port}"
        _wait_ready(api_url, procs, base)
        yield Stack(api_url=api_url, key=key, temporal_target=settings.temporal_target,
                    skeleton_queue=skeleton_queue, survey_after=survey_after, logs=base,
                    pids={name: proc.pid for name, proc in procs})
