"""Issue 14 §6 and §7 over HTTP: bodies, collections, echoes, payloads and times are bounded.

API -> Temporal dev server -> worker -> database: a refusal here is the caller's answer, and
what was refused never reached the workflow (the order's timeline and stage show it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.api_harness import Api, StackFactory, created, order_body
from tests.support.builders import FULL_PICK, POD, SHIP
from tests.support.claims_harness import claim_of, claim_on_cancelled_order
from tests.support.claims_harness import post as claim_post
from tests.support.complaints_harness import open_complaint
from tests.support.complaints_harness import post as complaint_post

# Bounds on input are checked before any SQL: SQLite only.
pytestmark = pytest.mark.one_engine

MiB = 1024 * 1024


def refused(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:500]
    error = resp.json()["error"]
    assert error["code"] == code, error
    return error


async def timeline_types(api: Api, order_id: str) -> list[str]:
    items = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    return [e["type"] for e in items]


# -- bodies (§6a) -----------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_413_before_parsing_and_authentication(api: Api) -> None:
    big = b'{"order_id": "' + b"x" * (2 * MiB) + b'"}'
    for headers in ({}, api.auth("operator")):  # no key: refused all the same, as too large
        resp = await api.http.post("/v1/orders", content=big,
                                   headers={**headers, "content-type": "application/json"})
        error = refused(resp, 413, "body_too_large")
        assert error["details"]["max_bytes"] == api.settings.max_json_body_bytes
        assert error["request_id"] == resp.headers["x-request-id"]

    sent = 0

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        nonlocal sent
        yield b"["
        for _ in range(20 * 16):  # 20 MiB in 64 KiB chunks
            sent += 64 * 1024
            yield b"1," * (32 * 1024)

    resp = await api.http.post("/v1/orders", content=chunked(),
                               headers={"content-type": "application/json"})
    refused(resp, 413, "body_too_large")
    assert sent <= 2 * MiB  # reading stopped at the limit, not at 20 MiB
    assert (await api.http.get("/healthz")).status_code == 200

    # Just under the limit is parsed (and then refused for what it says, not for its size).
    fine = await api.http.post("/v1/orders", headers=api.auth("operator"),
                               json={"padding": "x" * (MiB // 2)})
    refused(fine, 422, "validation_error")


async def test_uploads_keep_their_own_limit(api: Api) -> None:
    """A 2 MiB multipart upload passes the JSON limit; the upload's own checks answer it."""
    _, claim_id = await claim_on_cancelled_order(api)
    resp = await api.http.post(
        f"/v1/claims/{claim_id}/documents", headers=api.auth("operator"),
        data={"kind": "photo"}, files={"file": ("big.bin", b"\0" * (2 * MiB), "image/png")})
    refused(resp, 415, "unsupported_media_type")  # read in full, then sniffed: not a PNG


# -- collections and echoes (§6b-d) -----------------------------------------------------------


async def test_survey_scores_answer_only_the_survey_questions(api: Api) -> None:
    order_id = await created(api)
    flood = {"scores": {f"q{i}": 5 for i in range(20_000)}, "channel": "api"}
    resp = await api.event(order_id, "survey_response", flood)
    error = refused(resp, 422, "unknown_survey_question")
    assert len(resp.content) < 4096  # the 20,000 keys are not echoed back
    assert error["details"]["errors"][0]["loc"][-1] == "scores"
    one = await api.event(order_id, "survey_response", {"scores": {"timeliness": 5, "x": 1}})
    refused(one, 422, "unknown_survey_question")
    call = await api.event(order_id, "follow_up_call",
                           {"outcome": "answered", "scores": {"arrival": 4}}, role="operator")
    refused(call, 422, "unknown_survey_question")
    # Refused by the API: the workflow never saw them (it would have said invalid_transition).
    assert await timeline_types(api, order_id) == ["order_created"]


async def test_lists_are_bounded_and_refusals_echo_a_few_values(api: Api) -> None:
    order_id = await created(api)
    await api.event(order_id, "confirmed", {})
    skus = [{"sku": f"NOPE-{i}", "qty": 1} for i in range(50_000)]
    refused(await api.event(order_id, "picked", {"lines": skus}), 413, "body_too_large")
    flood = await api.event(order_id, "picked", {"lines": skus[:20_000]})  # 0.7 MiB
    error = refused(flood, 422, "validation_error")
    assert len(flood.content) < 8192
    assert error["details"]["errors"][0]["type"] == "too_long"

    unknown = await api.event(order_id, "picked", {"lines": skus[:500]})  # within the bound
    error = refused(unknown, 422, "unknown_sku")
    assert len(error["details"]["skus"]) == 10 and error["details"]["skus_count"] == 500

    lines = [{"sku": f"S-{i}", "qty": 1} for i in range(501)]
    refused(await api.create(order_body(lines=lines)), 422, "validation_error")
    many_errors = await api.create(order_body(lines=[{"sku": "", "qty": 0}] * 400))
    error = refused(many_errors, 422, "validation_error")
    assert len(error["details"]["errors"]) == 10 and error["details"]["error_count"] == 800


# -- payloads for Temporal (§6e) --------------------------------------------------------------


async def test_a_payload_too_large_for_temporal_is_413_before_the_workflow(
        make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url,
                          max_workflow_payload_bytes=10_000) as api:
        order_id = await created(api)
        note = await api.event(order_id, "note", {"text": "n" * 2000})
        assert note.status_code == 200, note.text
        sizes = [{"sku": f"SKU-{i:04d}-{'x' * 40}", "qty": 1} for i in range(200)]
        big = order_body(lines=sizes)
        error = refused(await api.create(big), 413, "payload_too_large")
        assert error["details"]["max_bytes"] == 10_000
        assert (await api.get(f"/v1/orders/{big['order_id']}")).status_code == 404  # not stored
        await api.event(order_id, "confirmed", {})
        pick = await api.event(order_id, "picked", {"lines": sizes})
        refused(pick, 413, "payload_too_large")
        assert (await api.get(f"/v1/orders/{order_id}")).json()["stage"] == "confirmed"


# -- times (§7) -------------------------------------------------------------------------------


async def test_events_may_not_be_dated_before_2000_nor_before_their_order(api: Api) -> None:
    received = datetime.now(UTC) - timedelta(hours=2)
    order_id = await created(api, received_at=received.isoformat())
    ancient = await api.event(order_id, "confirmed", {},
                              occurred_at=datetime(1, 1, 1, tzinfo=UTC))
    refused(ancient, 422, "occurred_too_early")
    before = await api.event(order_id, "confirmed", {},
                             occurred_at=received - timedelta(hours=1))
    error = refused(before, 422, "occurred_before_order")
    assert error["details"]["tolerance_seconds"] == api.settings.event_clock_skew_seconds
    assert await timeline_types(api, order_id) == ["order_created"]
    # Within the clocks' skew it is taken.
    skewed = await api.event(order_id, "confirmed", {},
                             occurred_at=received - timedelta(minutes=2))
    assert skewed.status_code == 200, skewed.text

    # The 0001-01-01 delivery that made an order on time and skipped its survey.
    for type_, data in (("picked", FULL_PICK), ("shipped", SHIP)):
        assert (await api.event(order_id, type_, data)).status_code == 200
    early_pod = await api.event(order_id, "delivered", POD,
                                occurred_at=datetime(1, 1, 1, tzinfo=UTC))
    refused(early_pod, 422, "occurred_too_early")
    assert (await api.get(f"/v1/orders/{order_id}")).json()["stage"] == "in_transit"

    # A cancelled order takes notes only, dated after it too.
    other = await created(api)
    await api.event(other, "cancelled", {"reason": "customer withdrew"})
    old_note = await api.event(other, "note", {"text": "x"},
                               occurred_at=datetime.now(UTC) - timedelta(days=1))
    refused(old_note, 422, "occurred_before_order")


async def test_order_dates_before_2000_are_refused(api: Api) -> None:
    for field in ("received_at", "promised_ship_by", "promised_delivery_by"):
        body = order_body(**{field: "0001-01-01T00:00:00Z"})
        refused(await api.create(body), 422, "occurred_too_early")
        assert (await api.get(f"/v1/orders/{body['order_id']}")).status_code == 404


async def test_claim_and_complaint_events_are_dated_after_their_order(api: Api) -> None:
    order_id, claim_id = await claim_on_cancelled_order(api)
    order = (await api.get(f"/v1/orders/{order_id}")).json()
    received = datetime.fromisoformat(order["stage_times"]["received"])
    body = {"event_id": f"ce-{uuid.uuid4().hex[:8]}", "type": "customer_contacted",
            "occurred_at": (received - timedelta(days=1)).isoformat(),
            "data": {"channel": "phone"}}
    resp = await api.http.post(f"/v1/claims/{claim_id}/events", headers=api.auth("operator"),
                               json=body)
    refused(resp, 422, "occurred_before_order")
    resp = await api.http.post(f"/v1/claims/{claim_id}/events", headers=api.auth("operator"),
                               json={**body, "occurred_at": "0001-01-01T00:00:00Z"})
    refused(resp, 422, "occurred_too_early")
    assert (await claim_post(api, claim_id, "customer_contacted", {"channel": "phone"})
            ).status_code == 200
    await claim_of(api, claim_id, step="customer_contacted")

    opened = await open_complaint(api, {"order_id": order_id, "category": "delay",
                                        "description": "late"})
    assert opened.status_code == 201, opened.text
    complaint_id = opened.json()["id"]
    early = await complaint_post(api, complaint_id, "note", {"text": "x"},
                                 occurred_at=received - timedelta(days=1))
    refused(early, 422, "occurred_before_order")
    ancient = await complaint_post(api, complaint_id, "note", {"text": "x"},
                                   occurred_at=datetime(1999, 12, 31, tzinfo=UTC))
    refused(ancient, 422, "occurred_too_early")
