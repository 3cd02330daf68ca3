"""A large import end to end on the dev server (issue 19 §4): a 2,000-row CSV (1,600 orders,
some of two lines, 1 in 50 refused) uploaded over the API, imported in the background by the
import workflow through the order service, its progress read while it runs and its report read
at the end; then the same file again, all duplicates. Prints the times
(bench/imports.py runs the 10,000-row figure)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bench.imports import big_file
from tests.support.api_harness import StackFactory
from tests.support.imports_harness import finished, report, upload

ROWS = 2000


@pytest.mark.e2e
async def test_two_thousand_rows_import_in_the_background_and_report(
        make_stack: StackFactory, sqlite_url: str, tmp_path: Path) -> None:
    data, orders, bad = big_file(ROWS, "BULK")
    async with make_stack(sqlite_url) as api:
        began = time.monotonic()
        resp = await upload(api, data)
        assert resp.status_code == 202, resp.text
        accepted = time.monotonic() - began
        import_id = resp.json()["import_id"]
        assert (resp.json()["total_rows"], resp.json()["total_orders"]) == (ROWS, orders)
        seen: set[int] = set()

        async def progress() -> bool:
            view = (await api.get(f"/v1/orders/imports/{import_id}")).json()
            seen.add(view["processed"])
            return view["status"] == "done"
        while not await progress():
            assert time.monotonic() - began < 900, "not done in 15 minutes"
            await asyncio.sleep(1)
        took = time.monotonic() - began
        done = await finished(api, import_id)
        assert (done["created"], done["duplicates"], done["refused"]) == \
            (orders - bad, 0, bad)
        assert len(seen) > 2  # the progress moved while it ran, not only at the end
        lines = await report(api, import_id)
        assert len(lines) == orders + 1
        refused = [line for line in lines[1:] if line[2] == "refused"]
        assert len(refused) == bad and all(r[3] == "validation_error" for r in refused)

        began = time.monotonic()
        again = await finished(api, (await upload(api, data)).json()["import_id"], timeout=900)
        again_took = time.monotonic() - began
        assert (again["created"], again["duplicates"], again["refused"]) == \
            (0, orders - bad, bad)
        print(f"\nimport of {ROWS} rows ({orders} orders): accepted in {accepted:.1f} s, "
              f"done in {took:.1f} s ({orders / took:.1f} orders/s); "
              f"the same file again (duplicates) in {again_took:.1f} s")
