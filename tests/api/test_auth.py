"""Who may do what, through the real app: the permission matrix per role, the follow-up-call
bypass closed, scoped and expiring keys, revocation (API and console at once), failed-auth
throttling and the access log. Real Temporal dev server, real worker, real SQLite database."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.permissions import ROUTES, Role, roles_for, route_roles
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.builders import FULL_PICK, SHIP
from tests.support.console_harness import sign_in

# Who may do what is no SQL: SQLite only; a stack per test (keys are revoked, throttles filled).
pytestmark = pytest.mark.one_engine


def event(type_: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event_id": f"ev-{uuid.uuid4().hex[:10]}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data or {}}


def code(resp: httpx.Response) -> str:
    return resp.json()["error"]["code"]


# (method, path, body, the action the body asks for): ids that do not exist, so an admitted
# call ends in a 404 (or a 200/201) without changing anything that matters.
SAMPLE: list[tuple[str, str, Any, str]] = [
    ("POST", "/v1/orders", None, "order.create"),
    ("GET", "/v1/orders", None, "order.read"),
    ("GET", "/v1/orders/SO-none/history", None, "order.history.read"),
    ("POST", "/v1/orders/SO-none/events", event("confirmed"), "order.event.confirmed"),
    ("POST", "/v1/orders/SO-none/events", event("cancelled", {"reason": "customer asked"}),
     "order.event.cancelled"),
    ("POST", "/v1/orders/SO-none/events", event("follow_up_call", {"outcome": "refused"}),
     "order.event.follow_up_call"),
    ("POST", "/v1/orders/SO-none/follow-up-call", {"outcome": "refused"},
     "order.event.follow_up_call"),
    ("POST", "/v1/claims/CL-none/events", event("note", {"text": "called"}),
     "claim.event.note"),
    ("POST", "/v1/complaints/CP-none/events", event("note", {"text": "called"}),
     "complaint.event.note"),
    ("GET", "/v1/claims", None, "claim.read"),
    ("GET", "/v1/escalations", None, "escalation.read"),
    ("GET", "/v1/inbox", None, "inbox.read"),
    ("GET", "/v1/sla-policies", None, "policy.manage"),
    ("GET", "/v1/subscriptions", None, "subscription.manage"),
    ("GET", "/v1/keys", None, "keys.manage"),
]


def _route_action(method: str, path: str) -> str:
    template = path.replace("SO-none", "{order_id}").replace("CL-none", "{claim_id}") \
        .replace("CP-none", "{complaint_id}")
    return ROUTES[(method, template)]


@pytest.mark.parametrize("role", list(Role))
async def test_the_matrix_is_enforced_for_each_role(api: Api, role: Role) -> None:
    for method, path, body, action in SAMPLE:
        if method == "POST" and path == "/v1/orders":
            body = order_body()
        resp = await api.http.request(method, path, json=body, headers=api.auth(role.value))
        route_action = _route_action(method, path)
        if role in roles_for(action):
            assert resp.status_code not in (401, 403), (role, method, path, resp.text)
        else:
            assert resp.status_code == 403, (role, method, path, resp.text)
            # Refused by the route's own action, or (the body's type) by the event's.
            refused_for = route_action if role not in roles_for(route_action) else action
            assert code(resp) == "forbidden"
            assert resp.json()["error"]["details"]["action"] == refused_for


async def test_a_follow_up_call_is_refused_to_an_integration_key_by_either_door(
        api: Api) -> None:
    body = order_body()
    assert (await api.create(body)).status_code == 201
    order_id = body["order_id"]
    via_event = await api.event(order_id, "follow_up_call", {"outcome": "refused"},
                                role="integration")
    via_route = await api.http.post(f"/v1/orders/{order_id}/follow-up-call",
                                    json={"outcome": "refused"}, headers=api.auth("integration"))
    for resp in (via_event, via_route):
        assert resp.status_code == 403 and code(resp) == "forbidden"
        assert resp.json()["error"]["details"]["action"] == "order.event.follow_up_call"
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert "follow_up_call" not in {e["type"] for e in timeline}
    # An operator gets past the permission and meets the order's own rule.
    staff = await api.event(order_id, "follow_up_call", {"outcome": "refused"}, role="operator")
    assert staff.status_code == 409 and code(staff) == "invalid_transition"


async def _new_key(api: Api, **body: Any) -> dict[str, Any]:
    resp = await api.http.post("/v1/keys", json={"role": "integration", **body},
                               headers=api.auth("admin"))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _post(api: Api, key: str, order_id: str, type_: str,
                data: dict[str, Any] | None = None) -> httpx.Response:
    return await api.http.post(f"/v1/orders/{order_id}/events", json=event(type_, data),
                               headers={"Authorization": f"Bearer {key}"})


async def test_scoped_keys_stay_inside_their_scope(api: Api) -> None:
    wms = (await _new_key(api, name="wms", scope={"event_types": ["confirmed", "picked"]}))["key"]
    carrier = (await _new_key(api, name="sf", scope={
        "event_types": ["shipped", "tracking_scan", "delivered"],
        "carriers": ["SF Express"]}))["key"]
    one_customer = (await _new_key(api, name="c1", scope={"customers": ["C-1"]}))["key"]
    body = order_body()  # customer C-88
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201

    # Event types: a WMS key posts its events and nothing else, orders included.
    refused = await _post(api, wms, order_id, "shipped", SHIP)
    assert refused.status_code == 403 and code(refused) == "key_scope_event_type"
    create = await api.http.post("/v1/orders", json=order_body(),
                                 headers={"Authorization": f"Bearer {wms}"})
    assert create.status_code == 403 and code(create) == "key_scope_event_type"

    # Customers: another customer's order, or creating one for another customer.
    other = await _post(api, one_customer, order_id, "confirmed")
    assert other.status_code == 403 and code(other) == "key_scope_customer"
    foreign = await api.http.post("/v1/orders", json=order_body(),
                                  headers={"Authorization": f"Bearer {one_customer}"})
    assert foreign.status_code == 403 and code(foreign) == "key_scope_customer"
    own = order_body(customer={"id": "C-1", "name": "One", "tier": "standard"})
    assert (await api.http.post("/v1/orders", json=own, headers={
        "Authorization": f"Bearer {one_customer}"})).status_code == 201

    # Reads narrow alike: the key lists its customer's orders only, and another's is a 403.
    as_c1 = {"Authorization": f"Bearer {one_customer}"}
    listed = await api.http.get("/v1/orders", headers=as_c1)
    assert listed.status_code == 200
    assert {o["customer"]["id"] for o in listed.json()["items"]} == {"C-1"}
    assert own["order_id"] in {o["order_id"] for o in listed.json()["items"]}
    for path in (f"/v1/orders/{order_id}", f"/v1/orders/{order_id}/timeline"):
        foreign_read = await api.http.get(path, headers=as_c1)
        assert foreign_read.status_code == 403 and code(foreign_read) == "key_scope_customer"
    assert (await api.http.get(f"/v1/orders/{own['order_id']}", headers=as_c1)).status_code == 200

    # Carriers: nothing before the order is shipped, a shipment only with its own carrier.
    scan_data = {"location": "Shanghai", "status": "departed"}
    early = await _post(api, carrier, order_id, "tracking_scan", scan_data)
    assert early.status_code == 403 and code(early) == "key_scope_carrier"
    assert (await _post(api, wms, order_id, "confirmed")).status_code == 200
    assert (await _post(api, wms, order_id, "picked", FULL_PICK)).status_code == 200
    wrong = await _post(api, carrier, order_id, "shipped", {**SHIP, "carrier": "ZTO"})
    assert wrong.status_code == 403 and code(wrong) == "key_scope_carrier"
    shipped = await _post(api, carrier, order_id, "shipped", SHIP)
    assert shipped.status_code == 200, shipped.text
    scan = await _post(api, carrier, order_id, "tracking_scan", scan_data)
    assert scan.status_code == 200, scan.text


async def test_keys_are_listed_without_secrets_and_scopes_only_on_integration_keys(
        api: Api) -> None:
    created = await _new_key(api, name="wms-2", scope={"event_types": ["picked"]},
                             expires_at=(datetime.now(UTC) + timedelta(days=3)).isoformat())
    listed = await api.get("/v1/keys", role="admin")
    assert listed.status_code == 200
    assert created["key"] not in listed.text and "key_hash" not in listed.text
    [row] = [k for k in listed.json()["items"] if k["name"] == "wms-2"]
    assert row["scope"]["event_types"] == ["picked"] and row["state"] == "active"
    assert row["expires_at"] is not None and "key" not in row
    operator = await api.http.post("/v1/keys", json={
        "name": "op", "role": "operator", "scope": {"customers": ["C-1"]}},
        headers=api.auth("admin"))
    assert operator.status_code == 422 and code(operator) == "scope_needs_integration"


async def test_an_expired_key_is_refused_with_its_own_code(api: Api) -> None:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        _, key = create_key(session, "old", "operator",
                            expires_at=datetime.now(UTC) - timedelta(seconds=1))
    engine.dispose()
    resp = await api.http.get("/v1/orders", headers={"Authorization": f"Bearer {key}"})
    assert resp.status_code == 401 and code(resp) == "key_expired"


async def test_revocation_takes_effect_at_once_for_the_api_and_the_console(api: Api) -> None:
    created = await _new_key(api, name="desk-wang", role="operator")
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await api.http.get("/v1/orders", headers=headers)).status_code == 200
    async with httpx.AsyncClient(transport=api.http._transport, base_url="http://waybill",
                                 timeout=60) as browser:
        assert (await sign_in(browser, created["key"])).status_code == 303
        assert (await browser.get("/console/board")).status_code == 200

        revoked = await api.http.post(f"/v1/keys/{created['id']}/revoke",
                                      headers=api.auth("admin"))
        assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"

        after = await api.http.get("/v1/orders", headers=headers)
        assert after.status_code == 401 and code(after) == "key_revoked"
        board = await browser.get("/console/board")
        assert board.status_code == 303
        assert board.headers["location"].startswith("/console/sign-in")
    missing = await api.http.post("/v1/keys/999999/revoke", headers=api.auth("admin"))
    assert missing.status_code == 404 and code(missing) == "key_not_found"


async def test_failed_authentications_are_logged_without_the_key_and_throttled(
        make_stack: StackFactory, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    guessed = "wb_guessedGUESSEDguessedGUESSED"
    async with make_stack(sqlite_url, worker=False,
                          auth_failures_per_minute=3) as api:
        with caplog.at_level(logging.INFO):
            bad = {"Authorization": f"Bearer {guessed}"}
            assert (await api.http.get("/v1/orders", headers=bad)).status_code == 401
            assert (await api.http.get("/v1/orders")).status_code == 401  # no key at all
            # A console sign-in with a bad key counts too.
            assert (await sign_in(api.http, guessed)).status_code == 401

            # Over the limit: refused even with a good key, before the key is looked up.
            throttled = await api.http.get("/v1/orders", headers=api.auth("operator"))
            assert throttled.status_code == 429 and code(throttled) == "too_many_auth_failures"
            assert 1 <= int(throttled.headers["Retry-After"]) <= 60
            console = await sign_in(api.http, api.keys["operator"])
            assert console.status_code == 429 and "Retry-After" in console.headers

    failures = [r for r in caplog.records if r.name == "waybill.auth"]
    assert [(r.reason, r.via) for r in failures] == [  # type: ignore[attr-defined]
        ("unknown", "api"), ("missing", "api"), ("unknown", "console")]
    assert all(r.client == "127.0.0.1" for r in failures)  # type: ignore[attr-defined]
    assert failures[0].key_prefix == guessed[:6]  # type: ignore[attr-defined]
    assert "guessedGUESSED" not in caplog.text
    assert not any("guessedGUESSED" in repr(r.__dict__) for r in caplog.records)


async def test_one_access_log_line_per_request(api: Api,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="waybill.access"):
        ok = await api.http.get("/v1/orders", params={"customer_id": "C-88"},
                                headers={**api.auth("auditor"), "X-Request-ID": "req-12345678"})
        refused = await api.http.get("/v1/orders")
    assert ok.status_code == 200 and refused.status_code == 401
    lines = [r for r in caplog.records if r.name == "waybill.access"]
    assert len(lines) == 2
    first, second = lines
    assert (first.method, first.path, first.status, first.role,  # type: ignore[attr-defined]
            first.request_id) == ("GET", "/v1/orders", 200, "auditor", "req-12345678")
    assert isinstance(first.duration_ms, float)  # type: ignore[attr-defined]
    assert "C-88" not in repr(first.__dict__)  # the query string is left out
    assert second.status == 401 and not hasattr(second, "role")  # type: ignore[attr-defined]
    assert second.request_id == refused.headers["X-Request-ID"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ["operator", "supervisor", "auditor", "admin"])
async def test_console_pages_follow_the_table(api: Api, role: str) -> None:
    assert (await sign_in(api.http, api.keys[role])).status_code == 303
    for path in ("/console/board", "/console/audit", "/console/orders/new", "/console/webhooks",
                 "/console/kpis"):
        resp = await api.http.get(path)
        allowed = Role(role) in route_roles("GET", path)  # type: ignore[operator]
        assert resp.status_code == (200 if allowed else 403), (role, path)
