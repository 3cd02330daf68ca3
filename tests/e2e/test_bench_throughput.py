"""bench.throughput end to end at the smallest scale: its own stack, both systems, the report."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.throughput import percentile
from config import REPO_ROOT


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 90, 99, 100)] == [50.0, 90.0, 99.0, 100.0]
    assert percentile([0.2], 99) == 0.2


@pytest.mark.e2e  # the bench starts its own stack
def test_one_client_two_orders_prints_both_rounds_and_the_ratio() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.throughput", "--concurrency", "1",
         "--orders-per-client", "2", "--warmup", "0", "--deadline-minutes", "2"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=150)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "waybill  c=1   closed 2/2 (of 2)" in out, out
    assert "skeleton c=1   closed 2/2 (of 2)" in out, out
    assert "orders/s" in out and "accept p50/p90/p99" in out
    assert "waybill / skeleton per concurrency" in out and "all closed" in out, out
    # Each write's p50 for both systems, e.g. "create 9/3, confirmed 40/37, ...".
    by_write = out.split("p50 by write, ms: ", 1)[1].splitlines()[0]
    assert [part.split()[0] for part in by_write.split(", ")] == [
        "create", "confirmed", "picked", "shipped", "tracking_scan", "delivered", "receipt",
        "survey_response"], by_write
    assert "Traceback" not in run.stderr
