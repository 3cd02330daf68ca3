"""Issue 14 §3, §6, §7 as pure rules: seconds, no servers.

The same rules over HTTP, on the real stack: tests/api/edge/test_limits.py,
tests/api/claims/test_endpoints.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send
from temporalio.exceptions import ApplicationError

from api.edge.body_limit import BodyLimitMiddleware
from api.orders.events import FollowUpCallData, SurveyData
from api.orders.schemas import OrderCreate
from tests.support.api_harness import order_body
from workflows.claim.compensation import compensation_cap
from workflows.claim.types import Basis, Liability
from workflows.policy import ClaimPolicy
from workflows.rejections import ECHO_MAX, few, refuse_before

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


# -- refusals echo a few values ---------------------------------------------------------------


def test_refusals_name_at_most_a_few_values_and_how_many_there_were() -> None:
    skus = [f"S-{i}" for i in range(50_000)]
    assert few({"skus": skus, "order_id": "SO-1"}) == {
        "skus": skus[:ECHO_MAX], "skus_count": 50_000, "order_id": "SO-1"}
    assert few({"missing_documents": ["a", "b"]}) == {"missing_documents": ["a", "b"]}


# -- times ------------------------------------------------------------------------------------


def test_an_event_may_be_dated_before_its_order_only_within_the_skew() -> None:
    refuse_before(NOW - timedelta(seconds=299), NOW, 300)
    refuse_before(NOW + timedelta(days=1), NOW, 300)
    with pytest.raises(ApplicationError) as err:
        refuse_before(NOW - timedelta(seconds=301), NOW, 300)
    assert err.value.type == "occurred_before_order"
    assert err.value.details[0]["tolerance_seconds"] == 300


@pytest.mark.parametrize("field", ["received_at", "promised_ship_by", "promised_delivery_by"])
def test_order_times_before_2000_are_refused(field: str) -> None:
    with pytest.raises(ValidationError) as err:
        OrderCreate.model_validate(order_body(**{field: "0001-01-01T00:00:00Z"}))
    assert [e["type"] for e in err.value.errors()] == ["occurred_too_early"]
    OrderCreate.model_validate(order_body(received_at="2000-01-01T00:00:00Z"))


# -- survey scores and lists ------------------------------------------------------------------


def test_scores_answer_only_the_survey_questions() -> None:
    SurveyData.model_validate({"scores": {"timeliness": 5, "completeness": 4, "courtesy": 3}})
    for scores in ({"arrival": 5}, {f"q{i}": 5 for i in range(20_000)}):
        with pytest.raises(ValidationError) as err:
            SurveyData.model_validate({"scores": scores})
        [error] = err.value.errors()
        assert error["type"] == "unknown_survey_question"
        assert len(error["msg"]) < 300
    with pytest.raises(ValidationError):
        FollowUpCallData.model_validate({"outcome": "answered", "scores": {"x": 1}})


def test_an_order_takes_at_most_500_lines() -> None:
    lines = [{"sku": f"S-{i}", "qty": 1} for i in range(501)]
    with pytest.raises(ValidationError) as err:
        OrderCreate.model_validate(order_body(lines=lines))
    assert err.value.errors()[0]["type"] == "too_long"


# -- the claim's compensation basis -----------------------------------------------------------


def test_the_cap_comes_from_the_basis_weight_first() -> None:
    policy = ClaimPolicy()
    basis = Basis(weight_kg=20, declared_value_minor=45000)
    assert compensation_cap(policy, Liability.CARRIER, basis) == (40000, "weight")
    assert compensation_cap(policy, Liability.CARRIER, Basis(declared_value_minor=45000)) == (
        45000, "declared_value")
    assert compensation_cap(policy, Liability.CUSTOMER, basis) == (0, "not_liable")
    assert compensation_cap(policy, Liability.CARRIER, Basis()) == (None, None)
    assert Basis(weight_kg=None, declared_value_minor=7).named() == {"declared_value_minor": 7}


# -- the body limit ---------------------------------------------------------------------------


async def _reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


def _client(calls: list[Any]) -> httpx.AsyncClient:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await _reads_everything(scope, receive, send)

    limited = BodyLimitMiddleware(app, max_json_bytes=1000, max_upload_bytes=100_000)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t")


async def test_a_declared_length_over_the_limit_is_refused_without_calling_the_app() -> None:
    calls: list[Any] = []
    async with _client(calls) as http:
        resp = await http.post("/x", content=b"x" * 1001,
                               headers={"content-type": "application/json"})
        assert resp.status_code == 413 and calls == []
        assert resp.json()["error"]["code"] == "body_too_large"
        assert resp.json()["error"]["details"] == {"max_bytes": 1000}
        ok = await http.post("/x", content=b"x" * 1000)
        assert (ok.status_code, ok.text) == (200, "1000")
        upload = await http.post("/x", content=b"x" * 50_000,
                                 headers={"content-type": "multipart/form-data; boundary=b"})
        assert upload.status_code == 200  # uploads have their own, larger limit
        huge = await http.post("/x", content=b"x" * 200_000,
                               headers={"content-type": "multipart/form-data; boundary=b"})
        assert huge.json()["error"]["code"] == "file_too_large"


async def test_a_streamed_body_is_counted_and_cut_at_the_limit() -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b"x" * 100

    async with _client([]) as http:
        resp = await http.post("/x", content=chunks())
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "body_too_large"
    assert pulled <= 12  # 1000 bytes allowed: the 11th chunk passes it
