"""A throwaway PostgreSQL server for the test session, started from the local binaries.

initdb refuses to run as root, so as root the server runs as the `postgres` user.
"""

from __future__ import annotations

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


@contextmanager
def throwaway_postgres(durable: bool = False) -> Iterator[str]:
    """Yield a SQLAlchemy URL to a fresh server's `postgres` database; remove it all after.

    Tests trade durability for speed; `durable=True` keeps PostgreSQL's defaults (fsync,
    synchronous commit), so a benchmark pays for its commits what production does.
    """
    base = Path(tempfile.mkdtemp(prefix="waybill-pg-"))
    data, port = base / "data", free_port()
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    run = lambda *args: subprocess.run([*prefix, *args], check=True,  # noqa: E731
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        run(_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            *([] if durable else ["--no-sync"]))
        fast = "" if durable else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
        opts = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 {fast}"
                "-c max_connections=200")
        run(_pg_bin("pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"), "-w",
            "start")
        try:
            yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
