"""A throwaway PostgreSQL server for the test session, started from the local binaries.

initdb refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} was not found; .ci/run installs it with apt")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A throwaway server that a test can stop and start again (an outage on purpose).

    Tests trade durability for speed; `durable=True` keeps PostgreSQL's defaults (fsync,
    synchronous commit), so a benchmark or soak pays for its commits what production does.
    """

    def __init__(self, base: Path, port: int, durable: bool = False) -> None:
        self.base, self.data, self.port, self.durable = base, base / "data", port, durable
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        self._prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self._prefix, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def start(self) -> None:
        fast = "" if self.durable else \
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        opts = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 {fast}"
                "-c max_connections=200")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.base / "log"), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[PostgresServer]:
    """A fresh, started server; stopped and removed after, whatever state the test left."""
    base = Path(tempfile.mkdtemp(prefix="waybill-pg-"))
    server = PostgresServer(base, free_port(), durable)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    try:
        server._run(_pg_bin("initdb"), "-D", str(server.data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", *([] if durable else ["--no-sync"]))
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def throwaway_postgres(durable: bool = False) -> Iterator[str]:
    """Yield a SQLAlchemy URL to a fresh server's `postgres` database; remove it all after."""
    with postgres_server(durable) as server:
        yield server.url
