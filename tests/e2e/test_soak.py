"""The fault-injection soak's small variant (bench/soak.py --small): 20 orders through every
stage while workers are SIGKILLed three times, Temporal restarts, PostgreSQL stops for 20 s and
the API is SIGKILLed once; every check of the soak must pass, in under four minutes.

It runs as a child process: the soak starts and stops its own stack (PostgreSQL, Temporal, two
workers, the API, a webhook receiver) and exits 1 naming the checks that failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from config import REPO_ROOT

pytestmark = pytest.mark.e2e  # the soak starts and stops its own stack

LIMIT_SECONDS = 240


def test_small_soak_passes_every_check() -> None:
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "bench.soak", "--small"], cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=LIMIT_SECONDS + 30)
    except subprocess.TimeoutExpired:
        # SIGTERM lets the soak stop the stack it started; the group kill is the backstop.
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"soak exited {proc.returncode}:\n{out}\n{err[-3000:]}"
    assert elapsed < LIMIT_SECONDS, f"the small soak took {elapsed:.0f} s:\n{out}"
