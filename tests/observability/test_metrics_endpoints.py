"""The API's and the worker's metrics endpoints, as an operator's Prometheus scrapes them.

`waybill api` and `waybill worker` run as their own processes (as deployed) against the dev
server and a migrated database; each serves Waybill's metrics and the Temporal SDK's on the
ports its settings give. An order moving (created, an event accepted, an event refused) moves
the counters, and the worker's database gauges follow it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from observability.serving import SDK_METRICS
from tests.support.api_harness import order_body
from tests.support.codec import TEST_KEYS
from tests.support.metrics_scrape import names, scrape, total, value
from tests.support.pg import free_port
from tests.support.polling import eventually

BIN = Path(sys.executable).parent
EVENTS = "/v1/orders/{order_id}/events"


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "waybill"), *args], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async def answers() -> bool:
        assert proc.poll() is None, log.read_text()
        try:
            async with httpx.AsyncClient(timeout=2) as http:
                return (await http.get(url)).status_code == 200
        except httpx.TransportError:
            return False
    await eventually(answers, timeout=60)


async def test_counters_move_when_an_order_moves(dev_env: WorkflowEnvironment, sqlite_url: str,
                                                 tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("api", "api_m", "api_sdk", "worker_m", "worker_sdk")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    env.update(
        WAYBILL_DATABASE_URL=sqlite_url, WAYBILL_DATA_DIR=str(tmp_path / "data"),
        WAYBILL_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        WAYBILL_TASK_QUEUE=f"tq-{uuid.uuid4().hex[:10]}", WAYBILL_LOG_LEVEL="WARNING",
        WAYBILL_API_PORT=str(ports["api"]),
        WAYBILL_API_METRICS_PORT=str(ports["api_m"]),
        WAYBILL_API_TEMPORAL_METRICS_PORT=str(ports["api_sdk"]),
        WAYBILL_WORKER_METRICS_PORT=str(ports["worker_m"]),
        WAYBILL_WORKER_TEMPORAL_METRICS_PORT=str(ports["worker_sdk"]),
        WAYBILL_METRICS_CACHE_SECONDS="0",
        # the key of everything on the tests' shared dev server (tests/support/codec.py): the
        # worker also updates the server's schedules, which other tests' workers then run
        WAYBILL_TEMPORAL_CODEC_KEYS=TEST_KEYS)
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        key = create_key(session, "metrics-test", "operator")[1]
    engine.dispose()
    api_url, auth = f"http://127.0.0.1:{ports['api']}", {"Authorization": f"Bearer {key}"}
    url = {name: f"http://127.0.0.1:{ports[name]}/metrics"
           for name in ("api_m", "api_sdk", "worker_m", "worker_sdk")}

    with process(["worker"], env, tmp_path / "worker.log") as worker, \
            process(["api"], env, tmp_path / "api.log") as api:
        await up(url["worker_m"], worker, tmp_path / "worker.log")
        await up(f"{api_url}/readyz", api, tmp_path / "api.log")
        before = await scrape(url["api_m"])

        body = order_body()
        order_id = body["order_id"]
        async with httpx.AsyncClient(base_url=api_url, headers=auth, timeout=30) as http:
            assert (await http.post("/v1/orders", json=body)).status_code == 201
            events = f"/v1/orders/{order_id}/events"
            now = datetime.now(UTC).isoformat()
            resp = await http.post(events, json={"event_id": "ev-1", "type": "confirmed",
                                                 "occurred_at": now})
            assert resp.status_code == 200, resp.text
            refused = await http.post(events, json={
                "event_id": "ev-2", "type": "delivered", "occurred_at": now,
                "data": {"signer": "Li Lei", "condition": "intact",
                         "pod": {"kind": "signature", "ref": "pod-1"}}})
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "invalid_transition"

        after = await scrape(url["api_m"])

        def moved(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert moved("waybill_events_accepted_total", type="confirmed", duplicate="false") == 1
        assert moved("waybill_events_refused_total", type="delivered",
                     code="invalid_transition") == 1
        assert moved("waybill_event_accept_seconds_count", type="confirmed") == 1
        assert moved("waybill_event_accept_seconds_count", type="delivered") == 0
        # Route templates, never an order's own path.
        assert moved("waybill_http_requests_total", method="POST", route="/v1/orders",
                     status="201") == 1
        assert moved("waybill_http_requests_total", method="POST", route=EVENTS,
                     status="200") == 1
        assert moved("waybill_http_requests_total", method="POST", route=EVENTS,
                     status="409") == 1
        assert not [labels for name, labels in after if order_id in str(labels)]
        assert value(after, "waybill_db_pool_size") == 5  # the API's pool (db_pool_size)

        # The worker's gauges read the database the projections wrote.
        async def confirmed_counted() -> bool:
            samples = await scrape(url["worker_m"])
            return value(samples, "waybill_orders", stage="confirmed") == 1
        await eventually(confirmed_counted)
        worker_now = await scrape(url["worker_m"])
        assert value(worker_now, "waybill_metrics_database_up") == 1
        assert value(worker_now, "waybill_orders", stage="received") == 0
        assert "waybill_db_pool_checked_out" in names(worker_now)

        # The SDK's own, by the names deploy/ uses: the worker's workflow-task latency, the
        # API client's requests (both events were updates, the refused one too).
        queue = env["WAYBILL_TASK_QUEUE"]
        worker_sdk = await scrape(url["worker_sdk"])
        assert total(worker_sdk, "temporal_workflow_task_schedule_to_start_latency_count",
                     task_queue=queue) >= 2
        assert total(worker_sdk, "temporal_activity_execution_latency_count") >= 1
        api_sdk = await scrape(url["api_sdk"])
        exported = {n.removesuffix(suffix) for n in names(worker_sdk) | names(api_sdk)
                    for suffix in ("_bucket", "_sum", "_count", "")}
        assert set(SDK_METRICS) <= exported, set(SDK_METRICS) - exported
        assert total(api_sdk, "temporal_request_total", operation="StartWorkflowExecution") == 1
        # An update waits for its answer: the SDK counts it among its long requests.
        assert total(api_sdk, "temporal_long_request_total",
                     operation="UpdateWorkflowExecution") >= 2
