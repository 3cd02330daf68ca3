"""Bulk import of a large file (issue 19 §4): a CSV of N rows uploaded to a stack of its own
(bench/stack.py: Temporal dev server, worker and API as `waybill dev` runs them), imported in
the background by the import workflow; prints the progress as the page would see it, the time
to accept the file, the time to import it, the outcome counts, and the report's size.

    .venv/bin/python -m bench.imports                      # 10,000 rows, SQLite
    .venv/bin/python -m bench.imports --rows 2000 --db postgresql
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import sys
import time

import httpx

from bench.stack import bench_stack
from tests.support.imports_harness import csv_file, order_rows

log = logging.getLogger("waybill.bench.imports")


def big_file(rows: int, tag: str) -> tuple[bytes, int, int]:
    """(file, orders, refused): every fourth order has two lines; every 50th a bad quantity,
    so the report has refusals to read."""
    out: list[list[str]] = []
    orders = refused = 0
    while len(out) < rows:
        lines = 2 if orders % 4 == 0 and rows - len(out) >= 2 else 1
        chunk = order_rows(f"{tag}-{orders:05d}", lines=lines)
        if orders % 50 == 49:
            chunk[0][5] = "-1"
            refused += 1
        out.extend(chunk)
        orders += 1
    return csv_file(out), orders, refused


def run(api_url: str, key: str, rows: int, deadline_s: float) -> int:
    data, orders, bad = big_file(rows, "BENCH")
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=api_url, headers=auth, timeout=120) as http:
        began = time.monotonic()
        resp = http.post("/v1/orders/imports", files={"file": ("bench.csv", data, "text/csv")})
        if resp.status_code != 202:
            print(f"upload refused: {resp.status_code} {resp.text}")
            return 1
        accepted = time.monotonic() - began
        import_id = resp.json()["import_id"]
        print(f"{rows} rows, {orders} orders, {len(data) / 1024 / 1024:.1f} MB: accepted in "
              f"{accepted:.1f} s as {import_id}", flush=True)
        last = -1
        while True:
            view = http.get(f"/v1/orders/imports/{import_id}").json()
            if view["processed"] != last and view["processed"] // 1000 != last // 1000:
                print(f"  {time.monotonic() - began:6.1f} s  {view['processed']:>6}/{orders}",
                      flush=True)
            last = view["processed"]
            if view["status"] in ("done", "failed"):
                break
            if time.monotonic() - began > deadline_s:
                print(f"not done in {deadline_s:.0f} s: {view}")
                return 1
            time.sleep(1)
        took = time.monotonic() - began
        report = http.get(f"/v1/orders/imports/{import_id}/report.csv", params={"lang": "zh-CN"})
        lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    print(f"status {view['status']}: created {view['created']}, duplicates "
          f"{view['duplicates']}, refused {view['refused']} (expected {bad}); "
          f"{took:.1f} s, {orders / took:.1f} orders/s, {rows / took:.1f} rows/s; "
          f"report {len(lines) - 1} lines")
    ok = (view["status"] == "done" and view["created"] == orders - bad
          and view["refused"] == bad and len(lines) - 1 == orders)
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--deadline-minutes", type=float, default=30)
    args = parser.parse_args(argv)
    with bench_stack(args.db, survey_after=3600, role="operator") as stack:
        return run(stack.api_url, stack.key, args.rows, args.deadline_minutes * 60)


if __name__ == "__main__":
    sys.exit(main())
