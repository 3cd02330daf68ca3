"""The HTTP contract, end to end: API -> Temporal dev server -> real worker -> SQLite/PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api_harness import (
    Api,
    StackFactory,
    created,
    error_code,
    order_body,
    policy_file,
)
from tests.support.builders import FULL_PICK, POD, SHIP, SURVEY, policy_yaml
from tests.support.polling import eventually

FAST_SURVEY = policy_yaml(survey_after="PT1S")
BREACH_IN_SECONDS = policy_yaml(confirm_within="PT2S")


async def drive_to_in_transit(api: Api, order_id: str) -> None:
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)):
        resp = await api.event(order_id, type_, data)
        assert resp.status_code == 200, resp.text


# -- create ---------------------------------------------------------------------------------


async def test_create_is_idempotent_and_a_different_body_conflicts(api: Api) -> None:
    body = order_body()
    first = await api.create(body)
    assert first.status_code == 201
    view = first.json()
    assert view["stage"] == "received" and view["workflow_id"] == f"order-{body['order_id']}"
    assert view["sla_policy"]["name"] == "standard"
    assert [line["ordered"] for line in view["lines"]] == [10, 4]

    again = await api.create(body)
    assert again.status_code == 200
    assert again.json()["order_id"] == body["order_id"]
    assert again.json()["created_at"] == view["created_at"]

    changed = await api.create({**body, "lines": [{"sku": "SKU-1", "qty": 11}]})
    assert changed.status_code == 409 and error_code(changed) == "order_exists"


async def test_key_account_gets_its_policy_by_tier(api: Api) -> None:
    order_id = await created(api, tier="key_account")
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    assert view["sla_policy"]["name"] == "key_account"
    due = await eventually(lambda: _next_deadline(api, order_id))
    received = datetime.fromisoformat(view["stage_times"]["received"])
    assert due["kind"] == "confirm_late"
    assert datetime.fromisoformat(due["due_at"]) - received == timedelta(hours=4)


async def _next_deadline(api: Api, order_id: str) -> dict[str, Any] | None:
    return (await api.get(f"/v1/orders/{order_id}")).json()["next_deadline"]


@pytest.mark.validation
@pytest.mark.parametrize("mutate, code", [
    (lambda b: b.pop("lines"), "validation_error"),
    (lambda b: b.update(lines=[]), "validation_error"),
    (lambda b: b.update(lines=[{"sku": "A", "qty": 1}, {"sku": "A", "qty": 2}]),
     "validation_error"),
    (lambda b: b.update(lines=[{"sku": "A", "qty": 0}]), "validation_error"),
    (lambda b: b.update(promised_ship_by="2026-12-01T10:00:00"), "validation_error"),
    (lambda b: b.update(promised_delivery_by="2000-01-01T00:00:00Z"), "validation_error"),
    (lambda b: b.update(order_id="has spaces"), "validation_error"),
    (lambda b: b.update(surprise=1), "validation_error"),
    (lambda b: b["customer"].update(tier="gold"), "validation_error"),
    (lambda b: b.update(sla_policy="platinum"), "unknown_policy"),
])
async def test_create_rejects_bad_input_with_422_and_stores_nothing(
        api: Api, mutate: Callable[[dict[str, Any]], Any], code: str) -> None:
    body = order_body()
    mutate(body)
    resp = await api.create(body)
    assert resp.status_code == 422 and error_code(resp) == code, resp.text
    if "order_id" in body:
        missing = await api.get(f"/v1/orders/{body['order_id']}")
        assert missing.status_code in (404, 422) or error_code(missing) == "order_not_found"


# -- auth -----------------------------------------------------------------------------------


@pytest.mark.validation
async def test_missing_or_wrong_key_is_401_and_wrong_role_is_403(api: Api) -> None:
    no_key = await api.http.get("/v1/orders")
    assert no_key.status_code == 401 and error_code(no_key) == "unauthorized"
    bad_key = await api.http.get("/v1/orders", headers={"Authorization": "Bearer wb_nope"})
    assert bad_key.status_code == 401 and error_code(bad_key) == "unauthorized"

    auditor_create = await api.create(order_body(), role="auditor")
    assert auditor_create.status_code == 403 and error_code(auditor_create) == "forbidden"
    order_id = await created(api)
    auditor_event = await api.event(order_id, "confirmed", role="auditor")
    assert auditor_event.status_code == 403
    history = await api.get(f"/v1/orders/{order_id}/history", role="integration")
    assert history.status_code == 403 and error_code(history) == "forbidden"
    escalations = await api.get("/v1/escalations", role="integration")
    assert escalations.status_code == 403
    assert (await api.http.get("/healthz")).status_code == 200


@pytest.mark.validation
async def test_unknown_order_is_404_everywhere(api: Api) -> None:
    for resp in (await api.get("/v1/orders/SO-nope"),
                 await api.get("/v1/orders/SO-nope/timeline"),
                 await api.get("/v1/orders/SO-nope/history", role="auditor"),
                 await api.event("SO-nope", "confirmed")):
        assert resp.status_code == 404 and error_code(resp) == "order_not_found"


# -- events ---------------------------------------------------------------------------------


async def test_every_event_type_drives_the_order_to_closed(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    async with make_stack(db_url,
                          policy=policy_file(tmp_path, FAST_SURVEY)) as api:
        order_id = await created(api)
        steps = [("note", {"text": "customer asked for morning delivery"}, "received"),
                 ("confirmed", {"by": "desk-1"}, "confirmed"),
                 ("picked", FULL_PICK, "picked"),
                 ("shipped", SHIP, "in_transit"),
                 ("tracking_scan", {"location": "Hangzhou hub", "status": "departed"},
                  "in_transit"),
                 ("delivered", POD, "delivered"),
                 ("tracking_scan", {"location": "door", "status": "delivered"}, "delivered"),
                 ("receipt_returned", api.archived_receipt(), "receipt_archived")]
        for type_, data, stage in steps:
            resp = await api.event(order_id, type_, data, role="operator")
            assert resp.status_code == 200, resp.text
            assert resp.json() == {"accepted": True, "duplicate": False, "stage": stage}

        async def survey_due() -> bool:
            view = (await api.get(f"/v1/orders/{order_id}")).json()
            return (view["follow_up"] or {}).get("status") == "due"

        await eventually(survey_due)
        resp = await api.event(order_id, "survey_response", SURVEY)
        assert resp.json()["stage"] == "closed"

        view = (await api.get(f"/v1/orders/{order_id}")).json()
        assert view["stage"] == "closed" and view["in_full"] is True and view["on_time"] is True
        assert all(view["stage_times"][s] for s in (
            "received", "confirmed", "picked", "shipped", "in_transit", "delivered",
            "receipt_archived", "followed_up", "closed"))
        assert view["follow_up"]["scores"] == SURVEY["scores"]
        assert view["shipment"]["tracking_no"] == "SF123"
        assert view["delivery"]["pod"]["kind"] == "signature"

        timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        types = [e["type"] for e in timeline]
        assert types[0] == "order_created" and types[-1] == "closed"
        for expected in ("note", "confirmed", "picked", "shipped", "in_transit", "tracking_scan",
                         "delivered", "receipt_returned", "survey_due", "survey_response"):
            assert expected in types
        confirmed = next(e for e in timeline if e["type"] == "confirmed")
        assert confirmed["actor"] == "test-operator" and confirmed["source"] == "operator"
        assert confirmed["data"] == {"by": "desk-1"}
        assert all(e["recorded_at"] and e["occurred_at"] for e in timeline)


async def test_duplicate_event_is_applied_once_and_reused_id_conflicts(api: Api) -> None:
    order_id = await created(api)
    first = await api.event(order_id, "confirmed", event_id="op-1")
    assert first.json() == {"accepted": True, "duplicate": False, "stage": "confirmed"}
    body = {"event_id": "op-1", "type": "confirmed", "occurred_at": "2026-11-20T08:00:00Z"}
    sent = await api.http.post(f"/v1/orders/{order_id}/events", json=body,
                               headers=api.auth("integration"))
    assert sent.status_code == 409 and error_code(sent) == "event_id_reused"

    note = {"event_id": "n-1", "type": "note", "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"text": "called the customer"}}
    for expect_duplicate in (False, True, True):
        resp = await api.http.post(f"/v1/orders/{order_id}/events", json=note,
                                   headers=api.auth("operator"))
        assert resp.status_code == 200 and resp.json()["duplicate"] is expect_duplicate
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert [e["event_id"] for e in timeline].count("n-1") == 1


@pytest.mark.validation
async def test_invalid_transition_is_409_with_details_and_changes_nothing(api: Api) -> None:
    order_id = await created(api)
    before = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    resp = await api.event(order_id, "shipped", SHIP)
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "invalid_transition"
    assert resp.json()["error"]["details"] == {"current_stage": "received",
                                               "event_type": "shipped"}
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    assert view["stage"] == "received"
    after = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert len(after) == len(before)


@pytest.mark.validation
@pytest.mark.parametrize("type_, data", [
    ("picked", {"lines": []}),
    ("picked", {}),
    ("shipped", {"carrier": "SF"}),
    ("tracking_scan", {"location": "x", "status": "y", "eta": "tomorrow"}),
    ("delivered", {"signer": "Li", "condition": "fine", "pod": {"kind": "signature", "ref": "r"}}),
    ("delivered", {"signer": "Li", "condition": "intact"}),
    ("receipt_returned", {"document": {"ref": "r", "sha256": "xyz"}}),
    ("survey_response", {"scores": {"timeliness": 6}}),
    ("cancelled", {}),
    ("note", {"text": ""}),
    ("teleported", {}),
])
async def test_malformed_event_is_422(api: Api, type_: str, data: dict[str, Any]) -> None:
    order_id = await created(api)
    resp = await api.event(order_id, type_, data)
    assert resp.status_code == 422 and error_code(resp) == "validation_error", resp.text


@pytest.mark.validation
async def test_event_time_must_have_a_zone(api: Api) -> None:
    order_id = await created(api)
    naive = {"event_id": "e-1", "type": "confirmed", "occurred_at": "2026-11-25T08:00:00"}
    resp = await api.http.post(f"/v1/orders/{order_id}/events", json=naive,
                               headers=api.auth("operator"))
    assert resp.status_code == 422 and error_code(resp) == "validation_error"


async def test_future_dated_event_is_kept_as_sent_but_timers_count_from_now(api: Api) -> None:
    """A sender's clock running ahead must neither lose the event nor push deadlines away."""
    order_id = await created(api)
    ahead = datetime.now(UTC) + timedelta(days=2)
    resp = await api.event(order_id, "confirmed", occurred_at=ahead)
    assert resp.status_code == 200 and resp.json()["stage"] == "confirmed"
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    confirmed_at = datetime.fromisoformat(view["stage_times"]["confirmed"])
    assert confirmed_at <= datetime.now(UTC)
    due = await eventually(lambda: _next_deadline(api, order_id))
    assert due["kind"] == "pick_late"
    assert datetime.fromisoformat(due["due_at"]) == confirmed_at + timedelta(hours=24)
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    sent = next(e for e in timeline if e["type"] == "confirmed")
    assert datetime.fromisoformat(sent["occurred_at"]) == ahead


async def test_an_order_posted_after_the_fact_keeps_when_it_was_received(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    """Intake catching up on a backlog: the customer's wait, and the deadlines, run from when
    the order was received; the audit trail still says when Waybill heard of it. A deadline
    already past when Waybill hears of a step waits the catch-up grace: the steps that followed
    are on their way, and nobody is paged for an order confirmed in time last week."""
    grace = policy_yaml(confirm_within="PT24H", pick_within="PT24H", receipt_within="P7D",
                        survey_after="P1D", survey_window="P3D") + "    catch_up_grace: PT4S\n"
    async with make_stack(db_url,
                          policy=policy_file(tmp_path, grace)) as api:
        received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
        body = order_body(received_at=received.isoformat(), ship_in_h=24, deliver_in_h=96)
        resp = await api.create(body)
        assert resp.status_code == 201, resp.text
        order_id = body["order_id"]
        view = resp.json()
        assert datetime.fromisoformat(view["stage_times"]["received"]) == received
        assert datetime.fromisoformat(view["created_at"]) > received + timedelta(days=2)
        # Confirmed late (30 h after receipt, the policy says 24): history, not a page now.
        resp = await api.event(order_id, "confirmed", occurred_at=received + timedelta(hours=30))
        assert resp.status_code == 200
        view = (await api.get(f"/v1/orders/{order_id}")).json()
        assert datetime.fromisoformat(view["stage_times"]["confirmed"]) == received + timedelta(
            hours=30)
        assert view["breaches"] == []
        # Picking was due 24 h after that, long ago, and nothing comes: after the grace it is
        # a breach like any other.
        breach = await eventually(lambda: _open_breach(api, order_id))
        assert breach["kind"] == "pick_late"
        assert datetime.fromisoformat(breach["due_at"]) == received + timedelta(hours=54)
        view = (await api.get(f"/v1/orders/{order_id}")).json()
        assert [b["kind"] for b in view["breaches"]] == ["pick_late"]
        timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        first = timeline[0]
        assert first["type"] == "order_created"
        assert datetime.fromisoformat(first["occurred_at"]) == received
        assert datetime.fromisoformat(first["recorded_at"]) == datetime.fromisoformat(
            view["created_at"])


@pytest.mark.validation
async def test_an_order_received_in_the_future_is_422(api: Api) -> None:
    body = order_body(received_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    resp = await api.create(body)
    assert resp.status_code == 422 and error_code(resp) == "validation_error", resp.text
    assert "received_at" in resp.text
    assert (await api.get(f"/v1/orders/{body['order_id']}")).status_code == 404


async def _open_breach(api: Api, order_id: str) -> dict[str, Any] | None:
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    return next(iter(view.get("breaches") or []), None)


@pytest.mark.validation
async def test_pick_of_a_sku_not_on_the_order_is_422(api: Api) -> None:
    order_id = await created(api)
    await api.event(order_id, "confirmed")
    resp = await api.event(order_id, "picked", {"lines": [{"sku": "SKU-9", "qty": 1}]})
    assert resp.status_code == 422 and error_code(resp) == "unknown_sku"
    assert resp.json()["error"]["details"]["skus"] == ["SKU-9"]


async def test_short_pick_marks_the_order_not_in_full(api: Api) -> None:
    order_id = await created(api)
    await api.event(order_id, "confirmed")
    await api.event(order_id, "picked", {"lines": [{"sku": "SKU-1", "qty": 7}]})
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    assert view["in_full"] is False
    assert {line["sku"]: line["picked"] for line in view["lines"]} == {"SKU-1": 7, "SKU-2": 0}


async def test_out_of_order_scans_keep_event_order_and_only_the_newest_eta_counts(
        api: Api) -> None:
    now = datetime.now(UTC)
    # Received before its oldest scan: no event may be dated before its order.
    order_id = await created(api, deliver_in_h=48,
                             received_at=(now - timedelta(hours=3)).isoformat())
    await drive_to_in_transit(api, order_id)
    newest_eta = now + timedelta(hours=30)
    newer = await api.event(order_id, "tracking_scan",
                            {"location": "Hangzhou", "status": "departed",
                             "eta": newest_eta.isoformat()},
                            occurred_at=now - timedelta(minutes=5))
    older = await api.event(order_id, "tracking_scan",
                            {"location": "Shanghai", "status": "picked up",
                             "eta": (now + timedelta(days=9)).isoformat()},
                            occurred_at=now - timedelta(hours=2))
    assert newer.status_code == older.status_code == 200
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    assert datetime.fromisoformat(view["latest_eta"]) == newest_eta
    assert not any(b["kind"] == "late_risk" for b in view["breaches"])
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    scans = [e["data"]["location"] for e in timeline if e["type"] == "tracking_scan"]
    assert scans == ["Shanghai", "Hangzhou"]


async def test_eta_past_the_promise_is_a_late_risk_breach_before_the_promise(api: Api) -> None:
    order_id = await created(api, deliver_in_h=48)
    await drive_to_in_transit(api, order_id)
    late_eta = datetime.now(UTC) + timedelta(hours=72)
    await api.event(order_id, "tracking_scan",
                    {"location": "Hangzhou", "status": "delayed", "eta": late_eta.isoformat()})
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    assert view["breached"] is True
    assert [b["kind"] for b in view["breaches"]] == ["late_risk"]

    async def escalated() -> list[dict[str, Any]]:
        return (await api.get(f"/v1/orders/{order_id}")).json()["open_escalations"]

    assert (await eventually(escalated))[0]["kind"] == "late_risk"


async def test_cancel_then_only_notes_are_accepted(api: Api) -> None:
    order_id = await created(api)
    await api.event(order_id, "confirmed")
    resp = await api.event(order_id, "cancelled", {"reason": "customer withdrew"})
    assert resp.json()["stage"] == "cancelled"
    view = await eventually(lambda: _stage_is(api, order_id, "cancelled"))
    assert view["cancel_reason"] == "customer withdrew"
    late = await api.event(order_id, "picked", FULL_PICK)
    assert late.status_code == 409 and error_code(late) == "invalid_transition"
    note = await api.event(order_id, "note", {"text": "refund issued"}, role="operator")
    assert note.status_code == 200 and note.json()["stage"] == "cancelled"
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert timeline[-1]["data"] == {"text": "refund issued"}


async def _stage_is(api: Api, order_id: str, stage: str) -> dict[str, Any] | None:
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    return view if view["stage"] == stage else None


# -- reading --------------------------------------------------------------------------------


async def test_list_filters_and_paginates(api: Api) -> None:
    ids = [await created(api) for _ in range(3)]
    other = order_body()
    other["customer"] = {"id": "C-99", "name": "Other", "tier": "key_account"}
    assert (await api.create(other)).status_code == 201
    await api.event(ids[0], "confirmed")

    page1 = (await api.get("/v1/orders", customer_id="C-88", limit=2)).json()
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    page2 = (await api.get("/v1/orders", customer_id="C-88", limit=2,
                           cursor=page1["next_cursor"])).json()
    seen = [o["order_id"] for o in page1["items"] + page2["items"]]
    assert sorted(seen) == sorted(ids) and page2["next_cursor"] is None

    tier = (await api.get("/v1/orders", tier="key_account")).json()["items"]
    assert [o["order_id"] for o in tier] == [other["order_id"]]
    confirmed = (await api.get("/v1/orders", stage="confirmed")).json()["items"]
    assert [o["order_id"] for o in confirmed] == [ids[0]]
    assert (await api.get("/v1/orders", breached="false")).json()["items"]
    assert (await api.get("/v1/orders", limit=500)).status_code == 422
    assert error_code(await api.get("/v1/orders", cursor="garbage!")) == "invalid_cursor"
    assert (await api.get("/v1/orders", stage="lost")).status_code == 422


@pytest.mark.validation
async def test_history_is_temporals_own_json(api: Api) -> None:
    order_id = await created(api)
    await api.event(order_id, "confirmed")
    resp = await api.get(f"/v1/orders/{order_id}/history", role="auditor")
    assert resp.status_code == 200
    events = resp.json()["events"]
    assert events[0]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"
    assert any(e["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED" for e in events)


@pytest.mark.validation
async def test_openapi_documents_the_contract_with_examples(api: Api) -> None:
    doc = (await api.http.get("/openapi.json")).json()
    for path in ("/v1/orders", "/v1/orders/{order_id}", "/v1/orders/{order_id}/events",
                 "/v1/orders/{order_id}/timeline", "/v1/orders/{order_id}/history",
                 "/v1/escalations", "/healthz", "/readyz"):
        assert path in doc["paths"]
    events = doc["paths"]["/v1/orders/{order_id}/events"]["post"]["requestBody"]["content"]
    assert "picked" in events["application/json"]["examples"]
    assert doc["components"]["schemas"]["OrderCreate"]["examples"]


async def test_readyz_reports_both_dependencies(api: Api) -> None:
    resp = await api.http.get("/readyz")
    assert resp.status_code == 200 and resp.json()["temporal"] == "ok"


# -- a breach in real time ------------------------------------------------------------------


async def test_seconds_scale_policy_breach_shows_in_order_and_escalations(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    async with make_stack(db_url,
                          policy=policy_file(tmp_path, BREACH_IN_SECONDS)) as api:
        order_id = await created(api)

        async def breached() -> dict[str, Any] | None:
            view = (await api.get(f"/v1/orders/{order_id}")).json()
            return view if view["breached"] else None

        view = await eventually(breached, timeout=30)
        breach = view["breaches"][0]
        assert breach["kind"] == "confirm_late" and breach["stage"] == "received"
        received = datetime.fromisoformat(view["stage_times"]["received"])
        assert datetime.fromisoformat(breach["due_at"]) == received + timedelta(seconds=2)
        assert datetime.fromisoformat(breach["detected_at"]) >= datetime.fromisoformat(
            breach["due_at"])

        async def escalations(state: str) -> list[dict[str, Any]]:
            items = (await api.get("/v1/escalations", state=state)).json()["items"]
            return [e for e in items if e["order_id"] == order_id]

        mine = await eventually(lambda: escalations("open"))
        assert len(mine) == 1 and mine[0]["level"] == 1 and mine[0]["kind"] == "confirm_late"
        timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        assert any(e["type"] == "sla_breach" and e["source"] == "system" for e in timeline)

        await api.event(order_id, "confirmed")
        resolved = await eventually(lambda: escalations("resolved"))
        assert [e["id"] for e in resolved] == [mine[0]["id"]]
        assert resolved[0]["resolution_code"] == "condition_cleared"
        assert (await api.get(f"/v1/orders/{order_id}")).json()["breached"] is True
