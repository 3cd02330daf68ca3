"""The soak's processes: a durable PostgreSQL, the Temporal dev server, two workers and the API.

Everything listens on free loopback ports and lives in one temporary directory. Each child runs
in a session of its own, so a SIGKILL reaches the whole process group (uvicorn, the worker's
threads) and nothing outlives `Stack.stop_all`, whatever happened before it.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from config import DEFAULT_POLICY_FILE, REPO_ROOT
from devstack import DEV_ENV, dev_server_flags
from tests.support.pg import _pg_bin, free_port

log = logging.getLogger("bench.soak.stack")

STOP_GRACE_SECONDS = 10.0


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port: int, within: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + within
    while not port_open(port):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]!r} exited ({proc.returncode}) before "
                               f"listening on {port}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {within:.0f} s")
        time.sleep(0.1)


def soak_policy_file(path: Path) -> Path:
    """The shipped policies with a 2 s survey delay, so an order closes within the soak; every
    other deadline keeps its hours, so no breach or escalation adds traffic of its own."""
    doc = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    for policy in doc["policies"].values():
        policy["survey_after"] = "PT2S"
        policy["survey_window"] = "PT2H"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class Child:
    """One restartable child process and where its output goes."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._log_file is None:
            self._log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.args, env=self.env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=REPO_ROOT, start_new_session=True)
        self.starts += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, sig)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period."""
        if not self.alive():
            return
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("process did not stop; killing", extra={"child": self.name})
            self.kill()

    def close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class Postgres:
    """A PostgreSQL server with its durable defaults (fsync, synchronous_commit and full page
    writes on), which the soak stops and starts again for the outage."""

    def __init__(self, base: Path) -> None:
        self.base, self.data, self.port = base / "pg", base / "pg" / "data", free_port()
        self._prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._prefix, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)

    def init(self) -> None:
        self.base.mkdir()
        if self._prefix:  # initdb refuses root: the server runs as `postgres`
            self.base.parent.chmod(0o711)  # mkdtemp's 0700 would keep `postgres` out
            shutil.chown(self.base, "postgres", "postgres")
        # --no-sync only skips initdb's own flush of the fresh cluster; the server runs durable.
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")
        self.start()

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
                "-c fsync=on -c synchronous_commit=on -c full_page_writes=on "
                "-c max_connections=300")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts,
                  "-l", str(self.base / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


class Stack:
    """All the soak's server processes; `stop_all` is safe to call at any point."""

    def __init__(self, base: Path, workers: int = 2, update_timeout: float = 30.0) -> None:
        self.base = base
        self.update_timeout = update_timeout
        self.pg = Postgres(base)
        self.temporal_port, self.api_port = free_port(), free_port()
        self.task_queue = "soak-orders"
        self.policy_file = soak_policy_file(base / "soak-policies.yaml")
        self.temporal: Child | None = None
        self.api: Child | None = None
        self.workers: list[Child] = []
        self._workers = workers

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def env(self) -> dict[str, str]:
        # Nothing of the caller's WAYBILL_* setup leaks in: the soak's stack is its own.
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
        env.update({
            "WAYBILL_DATA_DIR": str(self.base / "data"),
            "WAYBILL_DATABASE_URL": self.pg.url,
            "WAYBILL_TEMPORAL_ADDRESS": self.temporal_address,
            "WAYBILL_TASK_QUEUE": self.task_queue,
            "WAYBILL_API_HOST": "127.0.0.1",
            "WAYBILL_API_PORT": str(self.api_port),
            "WAYBILL_SLA_POLICIES": str(self.policy_file),
            "WAYBILL_LOG_LEVEL": "WARNING",
            "WAYBILL_WEBHOOK_TIMEOUT_SECONDS": "5",
            "WAYBILL_UPDATE_TIMEOUT_SECONDS": str(self.update_timeout),
            # Set, so no process races another to generate it into the data dir.
            "WAYBILL_SURVEY_SECRET": secrets.token_urlsafe(32),
            # The soak's webhook receiver is on http://127.0.0.1, as under `waybill dev`.
            **DEV_ENV,
        })
        return env

    def start_temporal(self) -> None:
        binary = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
        args = [binary, "server", "start-dev", "--headless",
                "--db-filename", str(self.base / "temporal.db"),
                "--ip", "127.0.0.1", "--port", str(self.temporal_port),
                "--http-port", str(free_port()), "--metrics-port", str(free_port()),
                "--log-level", "error", *dev_server_flags()]
        if self.temporal is None:
            self.temporal = Child("temporal", args, dict(os.environ),
                                  self.base / "temporal.log")
        self.temporal.start()
        wait_port(self.temporal_port, 60, self.temporal.proc)

    def start_apps(self) -> None:
        env = self.env()
        me = [sys.executable, "-m", "cli"]
        self.workers = [Child(f"worker-{i + 1}", [*me, "worker"], env,
                              self.base / f"worker-{i + 1}.log") for i in range(self._workers)]
        self.api = Child("api", [*me, "api"], env, self.base / "api.log")
        for child in [*self.workers, self.api]:
            child.start()
        wait_port(self.api_port, 60, self.api.proc)

    def children(self) -> list[Child]:
        return [c for c in [self.api, *self.workers, self.temporal] if c is not None]

    def stop_all(self) -> None:
        """API and workers first (they would log reconnect storms), then Temporal, then PG."""
        for child in self.children():
            try:
                child.stop()
            except Exception:  # one stuck child must not keep the others running
                log.exception("could not stop process", extra={"child": child.name})
            child.close()
        if self.pg.running():
            try:
                self.pg.stop("immediate")
            except Exception:
                log.exception("could not stop PostgreSQL")
