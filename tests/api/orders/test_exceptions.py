"""Exceptions and follow-up calls over HTTP: API -> dev server -> worker -> SQLite/PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.api_harness import Api, StackFactory, order_body, policy_file
from tests.support.builders import FULL_PICK, POD, SHIP, policy_yaml
from tests.support.notify_harness import webhook_receiver
from tests.support.polling import eventually

FAST_CALLS = policy_yaml(survey_after="PT1S", survey_window="PT1H") + (
    "    follow_up: {call_retries: 1, call_retry_after: PT2S}\n")
ANSWERS = {"goods_ok": True, "scores": {"timeliness": 4, "completeness": 5, "courtesy": 5}}


async def created(api: Api, **kw: Any) -> str:
    body = order_body(**kw)
    resp = await api.create(body)
    assert resp.status_code == 201, resp.text
    return body["order_id"]


async def walk(api: Api, order_id: str, steps: list[tuple[str, dict[str, Any] | None]]) -> None:
    for type_, data in steps:
        resp = await api.event(order_id, type_, data)
        assert resp.status_code == 200, resp.text


async def view(api: Api, order_id: str) -> dict[str, Any]:
    return (await api.get(f"/v1/orders/{order_id}")).json()


async def timeline_types(api: Api, order_id: str) -> list[str]:
    items = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    return [e["type"] for e in items]


async def test_follow_up_calls_retry_then_record_the_answers(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    async with make_stack(db_url,
                          policy=policy_file(tmp_path, FAST_CALLS)) as api:
        order_id = await created(api)
        call = f"/v1/orders/{order_id}/follow-up-call"
        early = await api.http.post(call, json={"outcome": "no_answer"}, headers=api.auth(
            "operator"))
        assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"

        await walk(api, order_id, [("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                                   ("delivered", POD)])

        async def due() -> bool:
            return ((await view(api, order_id))["follow_up"] or {}).get("status") == "due"
        await eventually(due)

        first = await api.http.post(call, json={"outcome": "no_answer", "call_id": "c1"},
                                    headers=api.auth("operator"))
        assert first.status_code == 201, first.text
        assert first.json()["duplicate"] is False
        assert first.json()["follow_up"]["next_call_at"] is not None
        again = await api.http.post(call, json={"outcome": "no_answer", "call_id": "c1"},
                                    headers=api.auth("operator"))
        assert again.status_code == 201 and again.json()["duplicate"] is True

        async def retry_due() -> bool:
            return "call_retry_due" in await timeline_types(api, order_id)
        await eventually(retry_due)

        second = await api.http.post(call, json={"outcome": "no_answer"},
                                     headers=api.auth("supervisor"))
        assert second.json()["follow_up"]["next_call_at"] is None  # the policy allows 1 retry
        assert len(second.json()["follow_up"]["calls"]) == 2

        bad = await api.http.post(call, json={"outcome": "answered"},
                                  headers=api.auth("operator"))
        assert bad.status_code == 422
        forbidden = await api.http.post(call, json={"outcome": "refused"},
                                        headers=api.auth("auditor"))
        assert forbidden.status_code == 403

        done = await api.http.post(call, json={"outcome": "answered", **ANSWERS},
                                   headers=api.auth("operator"))
        assert done.status_code == 201, done.text
        follow_up = (await view(api, order_id))["follow_up"]
        assert (follow_up["status"], follow_up["channel"]) == ("answered", "phone")
        assert follow_up["scores"] == ANSWERS["scores"]
        assert Counter(await timeline_types(api, order_id))["follow_up_call"] == 3


async def test_a_shortage_is_decided_over_http(
        make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url) as api:
        order_id = await created(api)
        await walk(api, order_id, [("stock_shortage", {"lines": [{"sku": "SKU-2", "qty": 1}]})])
        v = await view(api, order_id)
        assert v["awaiting_decision"]["kind"] == "stock_shortage"
        assert v["next_deadline"]["kind"] == "decision_late"

        held = await api.event(order_id, "confirmed", {})
        assert held.status_code == 409 and held.json()["error"]["code"] == "decision_pending"
        incomplete = await api.event(order_id, "shortage_decision",
                                     {"decision": "partial", "decided_by": "Ms Zhang"})
        assert incomplete.status_code == 422
        await walk(api, order_id, [("shortage_decision", {
            "decision": "partial", "decided_by": "Ms Zhang",
            "lines": [{"sku": "SKU-2", "qty": 1}]}), ("confirmed", {}),
            ("picked", {"lines": [{"sku": "SKU-1", "qty": 10}, {"sku": "SKU-2", "qty": 1}]})])
        v = await view(api, order_id)
        assert v["awaiting_decision"] is None and v["in_full"] is True
        assert [(line["sku"], line.get("agreed")) for line in v["lines"]] == [
            ("SKU-1", None), ("SKU-2", 1)]
        assert v["decisions"][0]["decided_by"] == "Ms Zhang"
        assert "decision_required" in await timeline_types(api, order_id)


async def test_lost_goods_open_a_claim_and_bad_reasons_are_refused(
        make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url) as api:
        order_id = await created(api)
        await walk(api, order_id, [("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)])
        bad = await api.event(order_id, "delivery_exception", {"reason": "aliens", "text": "?"})
        assert bad.status_code == 422
        await walk(api, order_id, [("delivery_exception",
                                    {"reason": "lost", "text": "pallet missing at the hub"})])
        v = await view(api, order_id)
        assert [(x["reason"], x["text"]) for x in v["exceptions"]] == [
            ("lost", "pallet missing at the hub")]
        assert [(c["claim_id"], c["cause"]) for c in v["claims"]] == [(f"{order_id}-CL1", "lost")]


async def test_cancellation_tells_the_customer_and_asks_integrations_to_release_stock(
        make_stack: StackFactory, db_url: str) -> None:
    with webhook_receiver() as receiver:
        async with make_stack(db_url) as api:
            sub = await api.http.post("/v1/subscriptions", headers=api.auth("admin"), json={
                "url": receiver.url,
                "event_types": ["order.cancelled", "order.release_reservation"]})
            assert sub.status_code == 201, sub.text
            receiver.secret = sub.json()["secret"]
            order_id = await created(api)
            await walk(api, order_id, [("confirmed", {}), ("picked", FULL_PICK),
                                       ("cancelled", {"reason": "customer changed supplier"})])

            async def both() -> bool:
                return {r.event_type for r in receiver.requests} == {
                    "order.cancelled", "order.release_reservation"}
            await eventually(both, timeout=30)
            refused = await api.event(order_id, "shipped", SHIP)
            assert refused.status_code == 409
    release = next(r for r in receiver.requests if r.event_type == "order.release_reservation")
    assert all(r.signature_ok for r in receiver.requests)
    assert release.body["data"]["reason"] == "customer changed supplier"
    assert {line["sku"]: line["picked"] for line in release.body["data"]["lines"]} == {
        "SKU-1": 10, "SKU-2": 4}


async def test_a_receipt_event_must_name_an_archived_document(
        make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url) as api:
        order_id = await created(api)
        await walk(api, order_id, [("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                                   ("delivered", POD)])
        unknown = await api.event(order_id, "receipt_returned",
                                  {"document": {"ref": "scan.pdf", "sha256": "c" * 64}})
        assert unknown.status_code == 422
        assert unknown.json()["error"]["code"] == "document_not_archived"
        assert (await view(api, order_id))["receipt"] is None
        await walk(api, order_id, [("receipt_returned", api.archived_receipt())])
        assert (await view(api, order_id))["stage"] == "receipt_archived"


async def test_a_customers_wait_pauses_the_delivery_deadline_over_http(
        make_stack: StackFactory, db_url: str) -> None:
    """issue 19 §5: `rescheduled_for` on consignee_absent / customer_request; refused elsewhere."""
    async with make_stack(db_url) as api:
        order_id = await created(api)
        await walk(api, order_id, [("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)])
        now = datetime.now(UTC)
        later = (now + timedelta(days=2)).isoformat()
        for data in (
                {"reason": "weather", "text": "typhoon", "rescheduled_for": later},
                {"reason": "consignee_absent", "text": "out", "rescheduled_for": later,
                 "promised_delivery_by": later},
                {"reason": "consignee_absent", "text": "out",
                 "rescheduled_for": (now - timedelta(hours=1)).isoformat()},
                {"reason": "customer_request", "text": "next quarter",
                 "rescheduled_for": (now + timedelta(days=31)).isoformat()}):
            bad = await api.event(order_id, "delivery_exception", data, occurred_at=now)
            assert bad.status_code == 422, data
        await walk(api, order_id, [("delivery_exception", {
            "reason": "consignee_absent", "text": "nobody home", "rescheduled_for": later})])

        async def paused() -> bool:
            return "deadline_paused" in await timeline_types(api, order_id)
        await eventually(paused)
        v = await view(api, order_id)
        assert [(p["cause"], p["until"][:16]) for p in v["pauses"]] == [
            ("consignee_absent", later[:16])]
        assert v["pauses"][0].get("resumed_at") is None  # running until the customer's time
