"""Property-based fuzzing of the whole API from its own `/openapi.json` (schemathesis).

Every operation, called with an admin, an operator and an integration key, against the real app
(PostgreSQL, Temporal dev server, worker), with generated valid and invalid requests: any 5xx,
any status, content type, header or body the document does not declare, any invalid request
accepted, and any error that is not the JSON envelope fails the test. Bounded: a fixed number of
examples per operation and mode, so `make test` stays within minutes on two cores.

`WAYBILL_FUZZ_SEED` changes the seed (the test prints the one it used, and failures name it);
`WAYBILL_FUZZ_EXAMPLES` the examples per operation and mode (a longer exploratory run);
`WAYBILL_FUZZ_LOG` names a file that gets a line per request (method, URL, body, answer).

Nothing is excluded: webhook subscriptions it creates point anywhere, but a delivery to them is
a short-lived outbound attempt from the worker (1 s timeout here) that fails and is retried.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.policies.router import EXAMPLE as SLA_EXAMPLE
from config import Settings
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.builders import FULL_PICK, SHIP

SEED = int(os.environ.get("WAYBILL_FUZZ_SEED", "1414"))
EXAMPLES = int(os.environ.get("WAYBILL_FUZZ_EXAMPLES", "15"))
BASE_URL = "http://waybill"
# The admin goes last: its run revokes keys (POST /v1/keys/{id}/revoke with generated ids) and
# would lock the other roles out.
ROLES = ("operator", "integration", "admin")
WEBHOOK_ACTIVITIES = {"deliver_notification"}


def json_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every error is the JSON envelope with a machine-readable code, whatever the route."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} with a body that is not JSON") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        raise AssertionError(f"{response.status_code} without the error envelope: {body!r}")
    return True


def invalid_body_or_path_refused(ctx: Any, response: Any, case: Any) -> bool | None:
    """An invalid body or path parameter must be refused. An invalid query or header alone is
    not held against the API: HTTP reads the last of a repeated query parameter and ignores
    unknown ones, and the Authorization header is replaced by the role's real key."""
    meta = case.meta
    if meta is not None and not (meta.is_negative_at(ParameterLocation.BODY)
                                 or meta.is_negative_at(ParameterLocation.PATH)):
        return None
    return negative_data_rejection(ctx, response, case)


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, but the readiness probe's 503: that is its answer whenever a dependency is slow
    to answer its probe (as the dev server may be under the fuzz's load), and the probe takes
    no input to blame."""
    if case.operation.path == "/readyz" and response.status_code == 503:
        return json_error_body(ctx, response, case)
    return not_a_server_error(ctx, response, case)


CHECKS: list[Callable[..., bool | None]] = [
    no_server_error, status_code_conformance, content_type_conformance,
    response_headers_conformance, response_schema_conformance, invalid_body_or_path_refused,
    json_error_body]


@pytest.fixture
async def stack(make_stack: StackFactory, pg_url: str) -> AsyncIterator[Api]:
    # Generated subscriptions name any URL: deliveries to them give up quickly. Negative cases
    # send broken credentials; left at its default, the per-address limit on failed
    # authentication would answer every later request 429 and hide the API from the fuzz (the
    # limit has its own tests).
    async with make_stack(pg_url, webhook_timeout_seconds=1,
                          auth_failures_per_minute=1_000_000) as api:
        yield api


async def _known_ids(api: Api) -> dict[str, str]:
    """Resources that exist, so generated requests reach past the 404 of a random id: a
    shipped order with a claim and a complaint, a webhook subscription, a policy."""
    order = order_body()
    order_id = order["order_id"]
    assert (await api.create(order, role="admin")).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)):
        assert (await api.event(order_id, type_, data)).status_code == 200, type_
    admin = api.auth("admin")
    claim = await api.http.post(f"/v1/orders/{order_id}/claims", headers=admin, json={
        "cause": "damaged", "description": "carton crushed"})
    complaint = await api.http.post("/v1/complaints", headers=admin, json={
        "order_id": order_id, "category": "delay", "description": "late"})
    assert (claim.status_code, complaint.status_code) == (201, 201), (claim.text,
                                                                      complaint.text)
    known = {"order_id": order_id, "name": "standard", "claim_id": claim.json()["claim_id"],
             "complaint_id": complaint.json()["id"]}
    subscription = await api.http.post("/v1/subscriptions", headers=admin, json={
        "url": "https://receiver.example/hook", "event_types": ["order.confirmed"]})
    if subscription.status_code == 201:  # a target check that resolves names may refuse it
        known["subscription_id"] = subscription.json()["id"]
    return known


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis prepares `requests` arguments; httpx names a raw body `content`."""
    out = {k: v for k, v in kwargs.items() if k not in ("cookies", "auth")}
    if isinstance(out.get("data"), bytes | str):
        out["content"] = out.pop("data")
    if out.get("files"):
        # `requests` sends a number in a multipart part as its text; httpx wants str/bytes.
        out["files"] = [(name, (part[0], _text(part[1]), *part[2:])
                         if isinstance(part, tuple) else _text(part))
                        for name, part in out["files"]]
    return out


def _text(value: Any) -> str | bytes:
    return value if isinstance(value, str | bytes) else json.dumps(value)


def _on(case: Any, path_parameters: dict[str, str]) -> Any:
    case.path_parameters = {**(case.path_parameters or {}), **path_parameters}
    return case


async def _request(http: httpx.AsyncClient, kwargs: dict[str, Any]) -> httpx.Response:
    response = await http.request(**kwargs)
    response.request.read()  # a multipart body was streamed; the checks read it again
    return response


def _fuzz(api: Api, http: httpx.AsyncClient, role: str, loop: asyncio.AbstractEventLoop,
          known: dict[str, str]) -> tuple[Counter[int], list[str]]:
    """Runs in a worker thread (hypothesis is synchronous); each request goes to the app on
    the test's event loop, where its Temporal client and database pool live."""
    schema = schemathesis.openapi.from_dict(api.app.openapi())
    headers = api.auth(role)
    sent: Counter[int] = Counter()
    failures: list[str] = []

    def send(case: Any) -> None:
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
        response = asyncio.run_coroutine_threadsafe(
            _request(http, _httpx_kwargs(kwargs)), loop).result(timeout=120)
        sent[response.status_code] += 1
        if os.environ.get("WAYBILL_FUZZ_LOG"):
            with open(os.environ["WAYBILL_FUZZ_LOG"], "a") as f:
                f.write(f"{role} {kwargs['method']} {kwargs['url']} "
                        f"{str(kwargs.get('json'))[:300]} -> {response.status_code} "
                        f"{response.text[:200]}\n")
        case.validate_response(response, checks=CHECKS, headers=kwargs["headers"])

    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        present = {k: v for k, v in known.items() if k in names}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)
            if mode == GenerationMode.POSITIVE:
                # Also on the resources that exist, and the document's own examples (a real
                # event sequence) sent to them.
                examples = [s.map(functools.partial(_on, path_parameters=present))
                            for s in schema.get_strategies_from_examples(operation)]
                strategy = st.one_of(strategy, operation.as_strategy(
                    generation_mode=mode, path_parameters=present), *examples)

            @seed(SEED)
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case: Any) -> None:
                send(case)

            try:
                run()
            except Unsatisfiable:
                pass  # nothing to make invalid: no parameters and no body (e.g. /healthz)
            except (Exception, BaseExceptionGroup) as exc:  # all reported together below
                failures.append(f"{operation.label} [{mode.value}, {role}]: {exc}")
    return sent, failures


def _worker_failures(records: list[logging.LogRecord]) -> list[str]:
    """Workflow tasks and activities that failed while the run went on: what the API accepted
    must not break the worker behind it (a payload too large, a row the database refuses).
    Webhook deliveries are left out: the run's made-up receivers are meant to fail."""
    found = []
    for record in records:
        kind = getattr(record, "__temporal_error_identifier", None)
        activity = getattr(record, "temporal_activity", None) or {}
        if kind == "WorkflowTaskFailure" or (
                kind == "ActivityFailure"
                and activity.get("activity_type") not in WEBHOOK_ACTIVITIES):
            found.append(f"{record.getMessage()}: {record.exc_info[1] if record.exc_info else ''}")
    return found


async def test_fuzz_api(stack: Api, caplog: pytest.LogCaptureFixture) -> None:
    # The three roles share one app, database and worker, as callers of one deployment do:
    # a workflow id (`order-0`) one of them starts is the same order for the next, not a
    # workflow left running on another test's task queue.
    caplog.set_level(logging.WARNING)
    print(f"fuzz seed {SEED} (WAYBILL_FUZZ_SEED), {EXAMPLES} examples per operation and mode")
    known = await _known_ids(stack)
    failures: list[str] = []
    # An exception in the app is answered 500 (as a server would), not raised into the test:
    # the failure then shows the request that caused it.
    transport = httpx.ASGITransport(app=stack.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=60) as http:
        for role in ROLES:
            sent, found = await asyncio.to_thread(_fuzz, stack, http, role,
                                                  asyncio.get_running_loop(), known)
            print(f"fuzz {role}: {sent.total()} requests ({dict(sorted(sent.items()))} by "
                  f"status), {len(found)} failing operations")
            # Most requests must reach the API past authentication, or the run fuzzes nothing.
            assert sent[401] + sent[429] < sent.total() / 2, f"{role}: {dict(sent)}"
            failures += found
    await asyncio.sleep(2)  # the worker finishes what the last requests started
    failures += _worker_failures(caplog.records)
    assert not failures, f"seed {SEED}:\n\n" + "\n\n".join(failures)


def test_every_error_status_is_declared_with_the_envelope(tmp_path: Path) -> None:
    """The document itself (built without starting the app): what the fuzz run holds the app
    to."""
    doc = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}",
                              data_dir=tmp_path)).openapi()
    ops = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()}
    assert {"401", "403", "404", "422", "503"} <= set(ops["GET", "/v1/orders/{order_id}"][
        "responses"])
    assert "409" in ops["POST", "/v1/escalations/{escalation_id}/resolve"]["responses"]
    assert "404" not in ops["PUT", "/v1/sla-policies/{name}"]["responses"]
    assert "401" not in ops["GET", "/healthz"]["responses"]
    for (method, path), op in ops.items():
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/ErrorEnvelope"}, (method, path, status)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


async def test_a_json_body_that_is_not_utf8_is_a_validation_error(stack: Api) -> None:
    # Found by the fuzz run: FastAPI answered it 400 `http_error`, undeclared and vague.
    resp = await stack.http.post("/v1/orders", content=b"m\xff\xfe", headers={
        **stack.auth("operator"), "content-type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "validation_error"
    assert resp.json()["error"]["details"]["errors"][0]["type"] == "json_invalid"


async def test_text_with_a_nul_is_refused_before_it_reaches_the_database(stack: Api) -> None:
    # Found by the fuzz run: PostgreSQL refuses U+0000, so each of these was a 500.
    order = order_body()
    order["lines"][0]["sku"] = "SKU\x00"
    resp = await stack.create(order)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error"
    resp = await stack.get("/v1/escalations", stage="picked\x00")
    assert resp.status_code == 422
    assert resp.json()["error"]["details"]["errors"][0]["loc"] == ["query", "stage"]
    resp = await stack.http.put("/v1/sla-policies/nul", headers=stack.auth("admin"), json={
        **SLA_EXAMPLE, "escalation": {**SLA_EXAMPLE["escalation"], "levels": [{
            **SLA_EXAMPLE["escalation"]["levels"][0], "recipients": ["ops\x00"]}]}})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_policy"
    assert (await stack.create(order_body())).status_code == 201  # nothing else refused


async def test_a_time_utc_cannot_hold_is_a_validation_error(stack: Api) -> None:
    # Found by the fuzz run: 0001-01-01 east of Greenwich overflowed in astimezone (a 500).
    resp = await stack.http.post("/v1/escalations/none/snooze", headers=stack.auth("operator"),
                                 json={"until": "0001-01-01T00:00:00+01:00"})
    # Before 2000 as well, so it says that (issue 14 §7).
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "occurred_too_early"
    resp = await stack.create(order_body(promised_ship_by="9999-12-31T23:00:00-05:00"))
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "validation_error"


def test_httpx_kwargs_moves_a_raw_body() -> None:
    assert _httpx_kwargs({"method": "POST", "data": b"x", "cookies": {}}) == {
        "method": "POST", "content": b"x"}
    httpx.Request("POST", BASE_URL, **{k: v for k, v in _httpx_kwargs(
        {"data": b"x"}).items()})
