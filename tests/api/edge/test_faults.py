"""The edge under faults, on the real servers: an exhausted pool, a Temporal with no worker, a
stopped PostgreSQL, an unforeseen error, crafted input. Each answer is the JSON envelope with a
request id; an outage is a fast 503 with Retry-After; /healthz stays fast throughout."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.errors import ApiError
from api.orders.service import Ended, on_running_order
from db.engine import make_engine, session_factory, transaction
from db.migrate import upgrade
from db.orders.queries import timeline
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.console_harness import sign_in
from tests.support.pg import postgres_server
from tests.support.worker_harness import running_worker
from workflows.order.types import Stage


def _envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["x-request-id"]
    return error


async def _timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def _events_named(api: Api, order_id: str, event_id: str) -> int:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        count = sum(1 for e in timeline(session, order_id) if e.event_id == event_id)
    engine.dispose()
    return count


async def test_an_exhausted_pool_is_a_fast_503_and_health_stays_fast(
        make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url, db_pool_size=1,
                          db_max_overflow=0, db_pool_timeout_seconds=0.5) as api:
        order = order_body()
        assert (await api.create(order)).status_code == 201
        held = api.app.state.engine.connect()  # the pool's only connection
        try:
            response, took = await _timed(api.get(f"/v1/orders/{order['order_id']}"))
            _envelope(response, 503, "database_unavailable")
            assert int(response.headers["retry-after"]) > 0
            assert took < 5
            health, took = await _timed(api.http.get("/healthz"))
            assert health.status_code == 200 and took < 0.5
            ready = await api.http.get("/readyz")
            assert ready.status_code == 503
            assert "database" in ready.json()["error"]["details"]["failing"]
        finally:
            held.close()
        assert (await api.get(f"/v1/orders/{order['order_id']}")).status_code == 200


async def test_no_worker_answers_503_in_time_and_a_retry_applies_once(
        make_stack: StackFactory, dev_env: WorkflowEnvironment, sqlite_url: str,
        task_queue: str) -> None:
    async with make_stack(sqlite_url, worker=False,
                          temporal_deadline_seconds=2) as api:
        order = order_body()
        assert (await api.create(order)).status_code == 201
        event_id, at = f"ev-{uuid.uuid4().hex[:8]}", datetime.now(UTC)
        response, took = await _timed(api.event(order["order_id"], "confirmed", {"by": "wms"},
                                                event_id=event_id, occurred_at=at))
        _envelope(response, 503, "temporal_unavailable")
        assert int(response.headers["retry-after"]) > 0
        assert took < 2 + 5
        async with running_worker(dev_env.client, sqlite_url, task_queue, api.settings):
            retried = await api.event(order["order_id"], "confirmed", {"by": "wms"},
                                      event_id=event_id, occurred_at=at)
            assert retried.status_code == 200, retried.text
            assert retried.json()["stage"] == "confirmed"
            again = await api.event(order["order_id"], "confirmed", {"by": "wms"},
                                    event_id=event_id, occurred_at=at)
            assert again.json()["duplicate"] is True
        assert _events_named(api, order["order_id"], event_id) == 1


async def test_racing_posts_of_one_event_id(make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url) as api:
        order = order_body()
        order_id = order["order_id"]
        assert (await api.create(order)).status_code == 201
        # Different bodies under one id: exactly one is applied, the other is event_id_reused.
        event_id, at = f"ev-{uuid.uuid4().hex[:8]}", datetime.now(UTC)
        first, second = await asyncio.gather(
            api.event(order_id, "confirmed", {"by": "wms-a"}, event_id=event_id, occurred_at=at),
            api.event(order_id, "confirmed", {"by": "wms-b"}, event_id=event_id, occurred_at=at))
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        loser = first if first.status_code == 409 else second
        _envelope(loser, 409, "event_id_reused")
        assert _events_named(api, order_id, event_id) == 1
        # The same body twice at once: applied once, the other told it is a duplicate.
        same = {"lines": [{"sku": "SKU-1", "qty": 10}, {"sku": "SKU-2", "qty": 4}]}
        event_id = f"ev-{uuid.uuid4().hex[:8]}"
        answers = await asyncio.gather(*(api.event(order_id, "picked", same, event_id=event_id,
                                                   occurred_at=at) for _ in range(2)))
        assert [a.status_code for a in answers] == [200, 200]
        assert sorted(a.json()["duplicate"] for a in answers) == [False, True]
        assert _events_named(api, order_id, event_id) == 1


async def test_racing_creates_of_one_order_id(make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url) as api:
        order = order_body()
        other = {**order, "lines": [{"sku": "SKU-9", "qty": 1}]}
        answers = await asyncio.gather(api.create(order), api.create(other))
        assert sorted(a.status_code for a in answers) == [201, 409]
        _envelope(next(a for a in answers if a.status_code == 409), 409, "order_exists")
        twin = order_body()
        answers = await asyncio.gather(api.create(twin), api.create(twin))
        assert sorted(a.status_code for a in answers) == [200, 201]


async def test_an_unforeseen_error_is_a_json_500_with_the_logged_request_id(
        make_stack: StackFactory, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    async with make_stack(sqlite_url,
                          worker=False) as api:
        def boom() -> None:
            raise RuntimeError("a bug")

        api.app.add_api_route("/v1/boom", boom)
        transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://waybill") as http:
            with caplog.at_level(logging.ERROR, logger="waybill.api"):
                response = await http.get("/v1/boom")
            error = _envelope(response, 500, "internal_error")
            assert "a bug" not in response.text  # no internals leak to the caller
            logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
            assert [r.request_id for r in logged] == [error["request_id"]]  # type: ignore[attr-defined]
            # A caller's own sane request id is kept, so both sides can quote it.
            mine = await http.get("/healthz", headers={"X-Request-ID": "trace-1234abcd"})
            assert mine.headers["x-request-id"] == "trace-1234abcd"


async def test_crafted_input_is_a_422_not_a_500(make_stack: StackFactory, sqlite_url: str) -> None:
    def cursor(value: Any) -> str:
        raw = value if isinstance(value, str) else json.dumps(value)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    async with make_stack(sqlite_url,
                          worker=False) as api:
        for bad in (cursor(["2026-01-01T00:00:00", "SO-1"]),  # a naive time
                    cursor("[" * 5000 + "]" * 5000),  # nested past the parser's depth
                    cursor([1, 2]), cursor({"a": 1}), "%%%", "A" * 5000):
            _envelope(await api.get("/v1/orders", cursor=bad), 422, "invalid_cursor")
        response = await api.get("/v1/sla-policies/standard", role="admin",
                                 version="9" * 20)
        _envelope(response, 422, "validation_error")


async def test_a_stopped_database_is_a_503_everywhere_until_it_is_back(
        make_stack: StackFactory) -> None:
    with postgres_server() as pg:
        upgrade(pg.url)
        async with make_stack(pg.url) as api:
            order = order_body()
            order_id = order["order_id"]
            assert (await api.create(order)).status_code == 201
            assert (await sign_in(api.http, api.keys["operator"], "en")).status_code == 303
            pg.stop("fast")  # a clean stop: this server runs without fsync
            try:
                for response in (await api.get(f"/v1/orders/{order_id}"),
                                 await api.get("/v1/orders"),
                                 await api.event(order_id, "confirmed", {"by": "wms"}),
                                 await api.create(order_body())):
                    _envelope(response, 503, "database_unavailable")
                    assert int(response.headers["retry-after"]) > 0
                health, took = await _timed(api.http.get("/healthz"))
                assert health.status_code == 200 and took < 0.5
                ready = await api.http.get("/readyz")
                assert ready.status_code == 503
                assert list(ready.json()["error"]["details"]["failing"]) == ["database"]
                # The console says so in the viewer's language, with the request id.
                page = await api.http.get("/console/board")
                assert page.status_code == 503
                assert "text/html" in page.headers["content-type"]
                assert "could not reach its database" in page.text
                assert page.headers["x-request-id"] in page.text
            finally:
                pg.start()
            assert (await api.get(f"/v1/orders/{order_id}")).status_code == 200
            assert (await api.http.get("/readyz")).status_code == 200


async def test_an_order_closing_while_a_request_is_on_its_way_is_treated_as_closed(
        make_stack: StackFactory, sqlite_url: str) -> None:
    """The workflow refuses with its terminal stage (it closed after our read, and is still
    finishing): that is the closed-order way for the caller, never a 409 for the race."""
    async with make_stack(sqlite_url,
                          worker=False) as api:
        order = order_body()
        assert (await api.create(order)).status_code == 201
        db = api.app.state.db
        order_id = order["order_id"]

        async def refused_as_closed() -> None:
            raise ApiError(409, "invalid_transition", "closed", current_stage="closed")

        outcome = await on_running_order(db, api.temporal, api.settings, order_id,
                                          refused_as_closed)
        assert isinstance(outcome, Ended) and outcome.stage == Stage.CLOSED

        async def refused_otherwise() -> None:
            raise ApiError(409, "invalid_transition", "not now", current_stage="received")

        with pytest.raises(ApiError):
            await on_running_order(db, api.temporal, api.settings, order_id, refused_otherwise)
