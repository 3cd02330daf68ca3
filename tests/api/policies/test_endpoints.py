"""SLA policies over HTTP: admin-only, versioned, pinned to running orders, seeded from the file."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.builders import policy_yaml
from workflows.order.workflow import OrderWorkflow

NEW_STANDARD: dict[str, Any] = {
    "confirm_within": "PT2H", "pick_within": "PT3H", "scan_gap": "PT4H",
    "receipt_within": "P2D", "survey_after": "P1D", "survey_window": "P2D",
}


async def put(api: Api, name: str, body: dict[str, Any], role: str = "admin") -> Any:
    return await api.http.put(f"/v1/sla-policies/{name}", json=body, headers=api.auth(role))


@pytest.mark.validation
@pytest.mark.parametrize("role", ["operator", "supervisor", "integration", "auditor"])
async def test_only_admins_may_read_or_write_policies(api: Api, role: str) -> None:
    assert (await api.get("/v1/sla-policies", role=role)).status_code == 403
    assert (await api.get("/v1/sla-policies/standard", role=role)).status_code == 403
    resp = await put(api, "standard", NEW_STANDARD, role=role)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"


async def test_file_seeds_version_one_of_each_policy(api: Api) -> None:
    items = (await api.get("/v1/sla-policies", role="admin")).json()["items"]
    assert {(p["name"], p["version"], p["source"]) for p in items} == {
        ("standard", 1, "file"), ("key_account", 1, "file")}
    assert items[0]["body"]["escalation"]["levels"]


async def test_put_adds_a_version_and_never_edits_one(api: Api) -> None:
    resp = await put(api, "standard", NEW_STANDARD)
    assert resp.status_code == 201
    assert resp.json()["version"] == 2 and resp.json()["versions"] == [1, 2]
    assert resp.json()["source"] == "api" and resp.json()["created_by"] == "test-admin"
    v1 = (await api.get("/v1/sla-policies/standard", role="admin", version=1)).json()
    assert v1["body"]["confirm_within"] == "PT24H"
    latest = (await api.get("/v1/sla-policies/standard", role="admin")).json()
    assert latest["body"]["confirm_within"] == "PT2H"
    brand_new = await put(api, "express", NEW_STANDARD)
    assert brand_new.status_code == 201 and brand_new.json()["version"] == 1


@pytest.mark.validation
@pytest.mark.parametrize("body, fragment", [
    ({**NEW_STANDARD, "confirm_within": "two hours"}, "confirm_within"),
    ({k: v for k, v in NEW_STANDARD.items() if k != "scan_gap"}, "scan_gap"),
    ({**NEW_STANDARD, "escalation": {"levels": [{"level": 2, "recipients": ["x"],
                                                  "ack_within": "PT1H",
                                                  "resolve_within": "PT1H"}],
                                      "repeat_every": "PT1H", "snooze_max": "PT1H"}}, "level"),
])
async def test_invalid_policy_is_422_and_adds_nothing(api: Api, body: dict[str, Any],
                                                      fragment: str) -> None:
    resp = await put(api, "standard", body)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_policy"
    assert fragment in resp.json()["error"]["message"]
    detail = (await api.get("/v1/sla-policies/standard", role="admin")).json()
    assert detail["versions"] == [1]
    missing = await api.get("/v1/sla-policies/nope", role="admin")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "policy_not_found"


async def test_running_order_keeps_its_version_and_new_orders_get_the_new_one(api: Api) -> None:
    first = order_body()
    assert (await api.create(first)).json()["sla_policy"] == {"name": "standard",
                                                              "version": "1"}
    assert (await put(api, "standard", NEW_STANDARD)).status_code == 201
    second = order_body()
    assert (await api.create(second)).json()["sla_policy"]["version"] == "2"

    async def confirm_within(order_id: str) -> float:
        handle = api.temporal.get_workflow_handle(f"order-{order_id}")
        return (await handle.query(OrderWorkflow.state)).policy.confirm_within

    assert await confirm_within(first["order_id"]) == 24 * 3600
    assert await confirm_within(second["order_id"]) == 2 * 3600
    again = (await api.get(f"/v1/orders/{first['order_id']}")).json()
    assert again["sla_policy"]["version"] == "1"


async def test_a_changed_file_seeds_a_new_version_an_unchanged_one_does_not(
        make_stack: StackFactory, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(policy_yaml())
    async with make_stack(db_url, policy=path) as api:
        assert (await put(api, "standard", NEW_STANDARD)).json()["version"] == 2
    async with make_stack(db_url, policy=path) as api:
        detail = (await api.get("/v1/sla-policies/standard", role="admin")).json()
        assert detail["version"] == 2 and detail["source"] == "api"
    path.write_text(policy_yaml(confirm_within="PT2S"))
    async with make_stack(db_url, policy=path) as api:
        detail = (await api.get("/v1/sla-policies/standard", role="admin")).json()
        assert detail["version"] == 3 and detail["body"]["confirm_within"] == "PT2S"


@pytest.mark.validation
async def test_a_policy_too_large_for_an_order_to_carry_is_422_and_adds_nothing(api: Api) -> None:
    """Every new order carries its policy: thirty years of daily holidays would make each of
    them too large for its workflow, so the policy is refused, not the orders."""
    start = date(2000, 1, 1)
    holidays = [(start + timedelta(days=i)).isoformat() for i in range(11_000)]
    body = {**NEW_STANDARD, "calendar": {"timezone": "Asia/Shanghai",
                                         "hours": {"mon": ["09:00-18:00"]},
                                         "holidays": holidays}}
    resp = await put(api, "standard", body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["code"] == "policy_too_large"
    assert resp.json()["error"]["details"]["size"] > resp.json()["error"]["details"]["max_bytes"]
    detail = (await api.get("/v1/sla-policies/standard", role="admin")).json()
    assert detail["versions"] == [1]
