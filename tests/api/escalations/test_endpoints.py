"""Escalations over HTTP with a seconds-scale ladder: climbing in real time, operator actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api_harness import Api, error_code, order_body
from tests.support.builders import policy_yaml
from tests.support.escalations_harness import escalation_of

FAST_LADDER = policy_yaml(confirm_within="PT1S") + """    escalation:
      repeat_every: PT2S
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT2S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
        - {level: 3, recipients: [cs_manager], ack_within: PT1H, resolve_within: PT1H}
"""


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": FAST_LADDER}


async def breached_order(api: Api) -> tuple[str, dict[str, Any]]:
    body = order_body()
    assert (await api.create(body)).status_code == 201
    return body["order_id"], await escalation_of(api, body["order_id"])


async def act(api: Api, esc_id: str, action: str, body: dict[str, Any],
              role: str = "operator") -> Any:
    return await api.http.post(f"/v1/escalations/{esc_id}/{action}", json=body,
                               headers=api.auth(role))


async def test_ladder_climbs_in_real_time_and_operators_act_on_it(api: Api) -> None:
    order_id, esc = await breached_order(api)
    assert esc["level"] == 1 and esc["recipients"] == ["ops_desk"]
    esc = await escalation_of(api, order_id, level=2)  # L1 unacknowledged for 2 s
    assert esc["recipients"] == ["supervisor"]

    ack = await act(api, esc["id"], "acknowledge", {"comment": "looking"}, role="supervisor")
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "test-supervisor"
    again = await act(api, esc["id"], "acknowledge", {})
    assert again.status_code == 409 and error_code(again) == "already_acknowledged"

    moved = await act(api, esc["id"], "reassign", {"assignee": "desk-wu"})
    assert moved.json()["assignee"] == "desk-wu"
    mine = (await api.get("/v1/escalations", assignee="desk-wu")).json()["items"]
    assert [e["id"] for e in mine] == [esc["id"]]

    too_long = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    snooze = await act(api, esc["id"], "snooze", {"until": too_long})
    assert snooze.status_code == 422 and error_code(snooze) == "snooze_too_long"
    no_code = await act(api, esc["id"], "resolve", {"text": "done"})
    assert no_code.status_code == 422

    # Issue 18 §2: the order is still not confirmed, so resolving is a waiver with a reason.
    body = {"code": "customer_informed", "text": "called the customer",
            "comment": "will confirm tomorrow"}
    holds = await act(api, esc["id"], "resolve", body, role="admin")
    assert holds.status_code == 409 and error_code(holds) == "condition_still_holds"
    assert holds.json()["error"]["details"]["step"] == "confirm_late"
    no_reason = await act(api, esc["id"], "resolve", {**body, "waive": True}, role="admin")
    assert no_reason.status_code == 422 and error_code(no_reason) == "waiver_reason_required"
    too_long = await act(api, esc["id"], "resolve", {**body, "waive": True, "reason": "x" * 501},
                         role="admin")
    assert too_long.status_code == 422
    done = await act(api, esc["id"], "resolve",
                     {**body, "waive": True, "reason": "customer confirms by phone"},
                     role="admin")
    assert done.status_code == 200
    view = done.json()
    assert (view["state"], view["resolution_code"], view["resolved_by"]) == (
        "resolved", "customer_informed", "test-admin")
    assert view["next_step_at"] is not None  # when it re-opens unless the order is confirmed
    history = [(h["action"], h["level"], h["actor"]) for h in view["history"]]
    assert history == [("opened", 1, "waybill"), ("notified", 1, "waybill"),
                       ("climbed", 2, "waybill"), ("notified", 2, "waybill"),
                       ("acknowledged", 2, "test-supervisor"),
                       ("reassigned", 2, "test-operator"), ("waived", 2, "test-admin")]
    assert view["history"][-1]["detail"]["reason"] == "customer confirms by phone"
    assert view["history"][4]["comment"] == "looking"
    twice = await act(api, esc["id"], "resolve", {"code": "x", "text": "again"})
    assert twice.status_code == 409 and error_code(twice) == "already_resolved"

    detail = (await api.get(f"/v1/escalations/{esc['id']}", role="auditor")).json()
    assert detail["history"] == view["history"]


async def test_queue_filters(api: Api) -> None:
    order_id, esc = await breached_order(api)
    for params, expected in (({"kind": "confirm_late"}, True), ({"kind": "pick_late"}, False),
                             ({"stage": "received"}, True), ({"customer_id": "C-88"}, True),
                             ({"customer_id": "C-00"}, False), ({"tier": "standard"}, True),
                             ({"tier": "key_account"}, False), ({"state": "open"}, True),
                             ({"state": "resolved"}, False), ({"level": 9}, False)):
        items = (await api.get("/v1/escalations", **params)).json()["items"]
        assert (esc["id"] in [e["id"] for e in items]) is expected, params
    assert (await api.get("/v1/escalations", tier="gold")).status_code == 422
    missing = await api.get("/v1/escalations/esc-nope")
    assert missing.status_code == 404 and error_code(missing) == "escalation_not_found"


ROLES = ("operator", "supervisor", "integration", "auditor", "admin")
READERS = {"operator", "supervisor", "auditor", "admin"}
ACTORS = {"operator", "supervisor", "admin"}


@pytest.mark.parametrize("role", ROLES)
async def test_authz_matrix_for_escalation_endpoints(api: Api, role: str) -> None:
    _, esc = await breached_order(api)
    for path in ("/v1/escalations", f"/v1/escalations/{esc['id']}"):
        resp = await api.get(path, role=role)
        assert resp.status_code == (200 if role in READERS else 403), (path, role)
    until = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    for action, body in (("reassign", {"assignee": "desk-1"}), ("snooze", {"until": until}),
                         ("acknowledge", {}),
                         ("resolve", {"code": "fixed", "text": "done", "waive": True,
                                      "reason": "checked"})):
        resp = await act(api, esc["id"], action, body, role=role)
        assert resp.status_code == (200 if role in ACTORS else 403), (action, role, resp.text)
