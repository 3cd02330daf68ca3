"""Complaints over HTTP: API -> dev server -> worker -> SQLite/PostgreSQL.

The default policies' complaint deadlines are hours long, so none fires here; missed deadlines
and the satisfaction window are tested on the time-skipping server
(tests/workflows/complaint/test_workflow.py).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from api.complaints.schemas import COMPLAINT_EVENT_EXAMPLES, ComplaintCreate, ComplaintEventIn
from tests.support.api_harness import Api, StackFactory, error_code, order_body, policy_file
from tests.support.builders import FULL_PICK, POD, POLICIES, SHIP, policy_yaml
from tests.support.complaints_harness import open_complaint, post
from tests.support.polling import eventually


def customer(customer_id: str | None = None, tier: str = "standard") -> dict[str, Any]:
    return {"id": customer_id or f"C-{uuid.uuid4().hex[:8]}", "name": "Sanghong Apparel",
            "tier": tier, "email": "buyer@example.com", "language": "en"}


def reply(hours: float = 48) -> dict[str, Any]:
    return {"text": "We are sorry: the truck broke down near Suzhou.",
            "plan": "We refund the freight and add a backup carrier.",
            "promised_by": (datetime.now(UTC) + timedelta(hours=hours)).isoformat(),
            "channel": "phone"}


async def new_order(api: Api, **kw: Any) -> str:
    body = order_body(**kw)
    assert (await api.create(body)).status_code == 201
    return body["order_id"]


async def test_an_order_complaint_from_acceptance_to_closed(api: Api) -> None:
    order_id = await new_order(api, tier="key_account")
    resp = await open_complaint(api, {"complaint_id": f"CP-{order_id}", "order_id": order_id,
                                      "category": "delay",
                                      "description": "Two days late and nobody told us."})
    assert resp.status_code == 201, resp.text
    c = resp.json()
    cid = c["id"]
    assert (c["step"], c["origin"], c["order_id"]) == ("accepted", "api", order_id)
    assert c["customer"]["id"] == "C-88" and c["customer"]["tier"] == "key_account"
    order = (await api.get(f"/v1/orders/{order_id}")).json()
    assert c["sla_policy"] == order["sla_policy"]  # the order's own copy of its policy
    opened = datetime.fromisoformat(c["opened_at"])
    assert c["due"] == {"kind": "route", "due_at": c["deadlines"]["route"]}
    within = POLICIES["key_account"].complaints.first_reply_within
    assert datetime.fromisoformat(c["deadlines"]["first_reply"]) - opened == timedelta(
        seconds=within)
    assert [e["type"] for e in c["timeline"]] == ["opened"]

    early = await post(api, cid, "resolved", {"text": "done"})
    assert early.status_code == 409 and error_code(early) == "invalid_transition"
    assert early.json()["error"]["details"]["current_step"] == "accepted"

    at = datetime.now(UTC)
    routed = await post(api, cid, "routed", {"department": "transport"}, "r-1", occurred_at=at)
    assert routed.status_code == 200, routed.text
    assert (routed.json()["step"], routed.json()["duplicate"]) == ("routed", False)
    again = await post(api, cid, "routed", {"department": "transport"}, "r-1", occurred_at=at)
    # A repeat of an event is harmless; another event under its id is refused.
    assert again.status_code == 200 and again.json()["duplicate"] is True
    reused = await post(api, cid, "routed", {"department": "warehouse"}, "r-1", occurred_at=at)
    assert reused.status_code == 409 and error_code(reused) == "event_id_reused"

    late_promise = await post(api, cid, "first_reply", reply(hours=-1))
    assert late_promise.status_code == 422 and error_code(late_promise) == "invalid_promise"
    replied = await post(api, cid, "first_reply", reply())
    assert replied.json()["step"] == "replied"
    assert replied.json()["complaint"]["plan"] == reply()["plan"]
    assert (await post(api, cid, "note", {"text": "carrier confirmed"})).status_code == 200
    resolved = await post(api, cid, "resolved", {"text": "Freight refunded."})
    view = resolved.json()["complaint"]
    assert view["step"] == "resolved" and view["due"]["kind"] == "satisfaction"
    assert view["satisfaction"]["requested_at"] is not None

    done = await post(api, cid, "satisfaction", {"score": 5, "comment": "fast and fair"},
                      role="supervisor")
    assert done.status_code == 200 and done.json()["step"] == "closed"
    closed = (await api.get(f"/v1/complaints/{cid}", role="auditor")).json()
    assert closed["satisfaction"]["outcome"] == "answered"
    assert closed["satisfaction"]["score"] == 5 and closed["breached"] is False
    assert closed["due"] is None and closed["closed_at"] is not None
    assert [(e["type"], e["actor"]) for e in closed["timeline"]] == [
        ("opened", "test-operator"), ("routed", "test-operator"),
        ("first_reply", "test-operator"), ("note", "test-operator"),
        ("resolved", "test-operator"), ("satisfaction_requested", "waybill"),
        ("satisfaction", "test-supervisor"), ("closed", "waybill")]
    after = await post(api, cid, "note", {"text": "too late"})
    assert after.status_code == 409 and error_code(after) == "invalid_transition"


async def test_a_complaint_about_the_service_names_only_the_customer(api: Api) -> None:
    who = customer(tier="key_account")
    resp = await open_complaint(api, {"customer": who, "category": "staff_conduct",
                                      "description": "The driver was rude at the dock."},
                                role="integration")
    assert resp.status_code == 201, resp.text
    c = resp.json()
    assert c["id"].startswith("CP-") and c["order_id"] is None
    assert c["customer"]["email"] == "buyer@example.com"
    assert c["sla_policy"]["name"] == "key_account"  # the newest version of the tier's policy
    listed = (await api.get("/v1/complaints", customer_id=who["id"])).json()["items"]
    assert [i["id"] for i in listed] == [c["id"]]
    routed = await post(api, c["id"], "routed", {"department": "transport",
                                                  "category": "communication"})
    assert routed.json()["complaint"]["category"] == "communication"


async def test_opening_is_idempotent_per_complaint_id_and_body(api: Api) -> None:
    body = {"complaint_id": f"CP-{uuid.uuid4().hex[:8]}", "customer": customer(),
            "category": "billing", "description": "Charged twice for one delivery."}
    first = await open_complaint(api, body)
    assert first.status_code == 201
    same = await open_complaint(api, body, role="supervisor")
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    assert same.json()["opened_at"] == first.json()["opened_at"]
    other = await open_complaint(api, {**body, "description": "Something else."})
    assert other.status_code == 409 and error_code(other) == "complaint_exists"
    unnamed = {k: v for k, v in body.items() if k != "complaint_id"}
    a, b = await open_complaint(api, unnamed), await open_complaint(api, unnamed)
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


@pytest.mark.validation
async def test_bad_input_gets_the_right_error(api: Api) -> None:
    order_id = await new_order(api)
    base = {"category": "delay", "description": "late"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({**base, "order_id": order_id, "customer": customer()}, 422, "validation_error"),
        (base, 422, "validation_error"),
        ({**base, "order_id": "SO-nope"}, 404, "order_not_found"),
        ({**base, "order_id": order_id, "category": "weather"}, 422, "validation_error"),
        ({**base, "order_id": order_id, "description": ""}, 422, "validation_error"),
        ({**base, "customer": {"id": "C-1"}}, 422, "validation_error"),
        ({**base, "order_id": order_id, "origin": "survey"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        resp = await open_complaint(api, body)
        assert (resp.status_code, error_code(resp)) == (status, code), body

    cid = (await open_complaint(api, {**base, "order_id": order_id})).json()["id"]
    for type_, data in (("routed", {"department": "marketing"}), ("routed", {}),
                        ("first_reply", {"text": "sorry", "plan": "fix"}),
                        ("satisfaction", {"score": 6}), ("escalated", {"text": "x"})):
        resp = await post(api, cid, type_, data)
        assert (resp.status_code, error_code(resp)) == (422, "validation_error"), (type_, data)
    naive = await api.http.post(f"/v1/complaints/{cid}/events", headers=api.auth("operator"),
                                json={"event_id": "n-1", "type": "note",
                                      "occurred_at": "2026-12-01T10:00:00",
                                      "data": {"text": "x"}})
    assert naive.status_code == 422
    missing = await post(api, "CP-nope", "note", {"text": "x"})
    assert missing.status_code == 404 and error_code(missing) == "complaint_not_found"
    assert error_code(await api.get("/v1/complaints/CP-nope")) == "complaint_not_found"
    for params in ({"step": "pending"}, {"department": "marketing"}, {"origin": "email"},
                   {"limit": 0}, {"cursor": "not-a-cursor"}):
        resp = await api.get("/v1/complaints", **params)
        assert resp.status_code == 422, params


async def test_the_list_filters_and_pages(api: Api) -> None:
    who = customer()
    ids = []
    for category in ("delay", "damage", "billing"):
        resp = await open_complaint(api, {"customer": who, "category": category,
                                          "description": category})
        ids.append(resp.json()["id"])
    await post(api, ids[0], "routed", {"department": "warehouse"})

    first = (await api.get("/v1/complaints", customer_id=who["id"], limit=2)).json()
    assert [i["id"] for i in first["items"]] == ids[:0:-1]  # newest first
    rest = (await api.get("/v1/complaints", customer_id=who["id"], limit=2,
                          cursor=first["next_cursor"])).json()
    assert [i["id"] for i in rest["items"]] == ids[:1] and rest["next_cursor"] is None
    for params, expected in (({"department": "warehouse"}, ids[:1]),
                             ({"step": "accepted"}, ids[:0:-1]),
                             ({"category": "damage"}, ids[1:2]),
                             ({"origin": "api"}, ids[::-1]), ({"origin": "survey"}, []),
                             ({"breached": "true"}, [])):
        items = (await api.get("/v1/complaints", customer_id=who["id"], **params)).json()
        assert [i["id"] for i in items["items"]] == expected, params


def test_the_documented_examples_are_valid_requests() -> None:
    events = TypeAdapter(ComplaintEventIn)
    assert {events.validate_python(e["value"]).type
            for e in COMPLAINT_EVENT_EXAMPLES.values()} == set(COMPLAINT_EVENT_EXAMPLES)
    extra = ComplaintCreate.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    for example in extra["examples"]:
        ComplaintCreate.model_validate(example)


ROLES = ("operator", "supervisor", "integration", "auditor", "admin")
OPENERS = {"operator", "supervisor", "integration", "admin"}
ACTORS = {"operator", "supervisor", "admin"}


@pytest.mark.validation
@pytest.mark.parametrize("role", ROLES)
async def test_authz_matrix_for_complaint_endpoints(api: Api, role: str) -> None:
    body = {"customer": customer(), "category": "other", "description": "x"}
    opened = await open_complaint(api, body, role=role)
    assert opened.status_code == (201 if role in OPENERS else 403), (role, opened.text)
    cid = (await open_complaint(api, body)).json()["id"]
    for path in ("/v1/complaints", f"/v1/complaints/{cid}"):
        assert (await api.get(path, role=role)).status_code == 200, (path, role)
    acted = await post(api, cid, "routed", {"department": "sales"}, role=role)
    assert acted.status_code == (200 if role in ACTORS else 403), (role, acted.text)


SURVEY_SOON = policy_yaml(survey_after="PT1S", survey_window="PT1H")


async def test_a_low_survey_score_opens_a_complaint_listed_without_any_call(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    async with make_stack(db_url,
                          policy=policy_file(tmp_path, SURVEY_SOON)) as api:
        order_id = await new_order(api)
        for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                            ("delivered", POD)):
            assert (await api.event(order_id, type_, data)).status_code == 200

        async def survey_due() -> bool:
            view = (await api.get(f"/v1/orders/{order_id}")).json()
            return (view["follow_up"] or {}).get("status") == "due"
        await eventually(survey_due)
        answers = {"scores": {"timeliness": 1, "courtesy": 4}, "suggestions": "call ahead"}
        resp = await api.event(order_id, "survey_response", answers)
        assert resp.status_code == 200, resp.text

        async def listed() -> list[dict[str, Any]]:
            return (await api.get("/v1/complaints", order_id=order_id)).json()["items"]
        [complaint] = await eventually(listed)
        assert complaint["id"] == f"{order_id}-CP1"
        assert (complaint["origin"], complaint["step"]) == ("survey", "accepted")
        assert complaint["survey"]["scores"] == answers["scores"]
        routed = await post(api, complaint["id"], "routed", {"department": "transport",
                                                              "category": "delay"})
        assert routed.status_code == 200, routed.text
        assert routed.json()["complaint"]["category"] == "delay"
