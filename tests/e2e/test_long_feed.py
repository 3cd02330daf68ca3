"""A long tracking feed through one order on the dev server (issue 16 §2): 2,000 scans posted
over the API, four at a time, so some arrive while the order continues as new. Every run's
history stays under 2 MB, nothing posted is lost or refused, a repeat of an early scan posted
after the continue-as-new is still a duplicate, and the order then closes normally with the
read model complete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.long_feed import runs_of
from db.engine import make_engine, session_factory, transaction
from db.orders.queries import scans_of, timeline
from tests.support.api_harness import StackFactory, created, policy_file
from tests.support.builders import FULL_PICK, POD, SHIP, SURVEY, policy_yaml
from tests.support.polling import eventually
from workflows.ids import order_workflow_id
from workflows.order import search

SCANS = 2000
AT_ONCE = 4
RUN_LIMIT_BYTES = 2 * 1024 * 1024


async def test_two_thousand_scans_continue_as_new_and_the_order_closes(
        make_stack: StackFactory, sqlite_url: str, tmp_path: Path) -> None:
    policy = policy_file(tmp_path, policy_yaml(survey_after="PT1S"))
    async with make_stack(sqlite_url, policy=policy) as api:
        order_id = await created(api)
        for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)):
            assert (await api.event(order_id, type_, data)).status_code == 200
        start = datetime.now(UTC)
        scans = [(f"scan-{i:05d}", start + timedelta(milliseconds=i),
                  {"location": f"hub {i % 40}", "status": "departed"}) for i in range(SCANS)]
        failures: list[str] = []

        async def post_share(share: int) -> None:
            for event_id, at, data in scans[share::AT_ONCE]:
                resp = await api.event(order_id, "tracking_scan", data, event_id=event_id,
                                       occurred_at=at)
                if resp.status_code != 200 or resp.json()["duplicate"]:
                    failures.append(f"{event_id}: {resp.status_code} {resp.text}")

        await asyncio.gather(*(post_share(i) for i in range(AT_ONCE)))
        assert failures == []

        workflow_id = order_workflow_id(order_id)
        runs = await runs_of(api.temporal, workflow_id)
        assert len(runs) > 1, runs  # it continued as new
        assert all(run.bytes < RUN_LIMIT_BYTES for run in runs), runs
        # The stage attribute came over with the runs (the new run writes it only on a change).
        described = await api.temporal.get_workflow_handle(workflow_id).describe()
        assert described.typed_search_attributes.get(search.STAGE) == "in_transit"

        # The first scan again, long after the run that applied it ended.
        event_id, at, data = scans[0]
        again = await api.event(order_id, "tracking_scan", data, event_id=event_id,
                                occurred_at=at)
        assert again.status_code == 200, again.text
        assert again.json() == {"accepted": True, "duplicate": True, "stage": "in_transit"}
        other = await api.event(order_id, "tracking_scan", {"location": "elsewhere",
                                                            "status": "departed"},
                                event_id=event_id, occurred_at=at)
        assert other.status_code == 409 and other.json()["error"]["code"] == "event_id_reused"

        for type_, data, stage in (("delivered", POD, "delivered"),
                                   ("receipt_returned", api.archived_receipt(),
                                    "receipt_archived")):
            resp = await api.event(order_id, type_, data)
            assert resp.json()["stage"] == stage, resp.text

        async def survey_due() -> bool:
            view = (await api.get(f"/v1/orders/{order_id}")).json()
            return (view["follow_up"] or {}).get("status") == "due"

        await eventually(survey_due)
        assert (await api.event(order_id, "survey_response", SURVEY)).json()["stage"] == "closed"
        handle = api.temporal.get_workflow_handle(workflow_id)
        assert await handle.result() == "closed"
        described = await handle.describe()
        assert described.typed_search_attributes.get(search.STAGE) == "closed"

        view = (await api.get(f"/v1/orders/{order_id}")).json()
        assert view["stage"] == "closed" and view["in_full"] is True
        engine = make_engine(api.settings.db_url)
        with transaction(session_factory(engine)) as session:
            rows = timeline(session, order_id)
            stored_scans = scans_of(session, order_id)
        engine.dispose()
        scan_rows = [r.event_id for r in rows if r.type == "tracking_scan"]
        assert sorted(scan_rows) == [event_id for event_id, _, _ in scans]  # each once
        assert len({r.event_id for r in rows}) == len(rows)
        types = [r.type for r in rows]
        assert types[0] == "order_created" and types[-1] == "closed"
        for kind in ("confirmed", "picked", "shipped", "delivered", "receipt_returned",
                     "survey_due", "survey_response"):
            assert types.count(kind) == 1, kind
        assert len(stored_scans) == SCANS
        print(f"runs: {[f'{r.events} events {r.bytes} B, input {r.input_bytes} B' for r in runs]}")
