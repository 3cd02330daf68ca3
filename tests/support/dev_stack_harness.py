"""`waybill dev` as a child process: its environment, starting it and waiting until ready,
stopping it the way Ctrl-C does, and checking that nothing it started is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from devstack import DEV_METRICS
from tests.support.builders import policy_yaml
from tests.support.pg import free_port

FAST = policy_yaml(confirm_within="PT2S")


BIN = Path(sys.executable).parent


def dev_stack_env(tmp_path: Path, ports: dict[str, int]) -> dict[str, str]:
    policy = tmp_path / "fast.yaml"
    policy.write_text(FAST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    env.update(WAYBILL_DATA_DIR=str(tmp_path / "data"), WAYBILL_SLA_POLICIES=str(policy),
               WAYBILL_API_PORT=str(ports["api"]), WAYBILL_TEMPORAL_PORT=str(ports["temporal"]),
               WAYBILL_TEMPORAL_UI_PORT=str(ports["ui"]), WAYBILL_LOG_LEVEL="WARNING")
    # `waybill dev` serves metrics on fixed ports by default (devstack.DEV_METRICS): free ones
    # here, so stacks of tests running side by side do not collide.
    env.update({var: str(free_port()) for var in DEV_METRICS})
    return env


def wait_ready(proc: subprocess.Popen[bytes], api: str, output: Path | None = None) -> None:
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, (output.read_text() if output
                                     else proc.stdout.read().decode())  # type: ignore[union-attr]
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "waybill dev did not become ready"
        time.sleep(0.5)


@contextmanager
def dev_stack(env: dict[str, str], api: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([str(BIN / "waybill"), "dev"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_ready(proc, api)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C does
            proc.wait(timeout=40)


def no_process_mentions(marker: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return not [line for line in out.splitlines() if marker in line]
