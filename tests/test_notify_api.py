"""The subscription admin API and the team inbox API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.deps import Role
from db import inbox as inbox_repo
from db import subscriptions as subs_repo
from db.engine import make_engine, session_factory, transaction
from db.keys import create_key
from db.notification_models import WebhookSubscription
from tests.api_harness import Api, api_stack

ADMINS = {"admin"}
INBOX_READERS = {"operator", "supervisor", "admin"}
HOOK = "https://hooks.example.com/waybill"


@pytest.fixture
async def api(dev_env: WorkflowEnvironment, db_url: str, task_queue: str,
              tmp_path: Path) -> AsyncIterator[Api]:
    async with api_stack(dev_env.client, db_url, task_queue, tmp_path, worker=False) as stack:
        yield stack


def error_code(resp: httpx.Response) -> str:
    return resp.json()["error"]["code"]


async def call(api: Api, method: str, path: str, role: str | None = "admin",
               body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    headers = api.auth(role) if role else {}
    return await api.http.request(method, path, json=body, headers=headers, params=params)


async def new_subscription(api: Api, **body: Any) -> dict[str, Any]:
    resp = await call(api, "POST", "/v1/subscriptions",
                      body={"url": HOOK, "event_types": ["order.shipped"], **body})
    assert resp.status_code == 201, resp.text
    return resp.json()


def seed_inbox(api: Api, team: str, n: int = 1, start: datetime | None = None,
               prefix: str = "item") -> list[str]:
    """Inbox items for `team`, one a minute from `start`; returns their ids, oldest first."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    engine = make_engine(api.settings.db_url)
    ids = [f"{prefix}-{team}-{i}" for i in range(n)]
    with transaction(session_factory(engine)) as session:
        for i, item_id in enumerate(ids):
            inbox_repo.add_item(session, {
                "id": item_id, "team": team, "outbox_id": None,
                "event_type": "escalation.level_changed", "title": f"Escalation {i}",
                "body": "moved to level 2", "order_id": "SO-1", "escalation_id": "SO-1:esc",
                "created_at": start + timedelta(minutes=i)})
    engine.dispose()
    return ids


# -- authorization --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r.value for r in Role])
async def test_authz_matrix_for_every_notification_endpoint(api: Api, role: str) -> None:
    existing = await new_subscription(api)
    [item_id] = seed_inbox(api, role)
    endpoints: list[tuple[str, str, dict[str, Any] | None, set[str], int]] = [
        ("POST", "/v1/subscriptions", {"url": HOOK, "event_types": ["order.delivered"]},
         ADMINS, 201),
        ("GET", "/v1/subscriptions", None, ADMINS, 200),
        ("GET", f"/v1/subscriptions/{existing['id']}", None, ADMINS, 200),
        ("PATCH", f"/v1/subscriptions/{existing['id']}", {"description": "CRM"}, ADMINS, 200),
        ("DELETE", f"/v1/subscriptions/{existing['id']}", None, ADMINS, 200),
        ("GET", "/v1/inbox", None, INBOX_READERS, 200),
        ("POST", f"/v1/inbox/{item_id}/read", None, INBOX_READERS, 200),
    ]
    seen = {}
    for method, path, body, allowed, ok in endpoints:
        resp = await call(api, method, path, role, body)
        seen[(method, path)] = resp.status_code
        expected = ok if role in allowed else 403
        assert resp.status_code == expected, (method, path, role, resp.text)
        if expected == 403:
            assert error_code(resp) == "forbidden"
        anonymous = await call(api, method, path, None, body)
        assert anonymous.status_code == 401 and error_code(anonymous) == "unauthorized"
    assert len(seen) == len(endpoints)


# -- subscriptions --------------------------------------------------------------------------


async def test_subscription_lifecycle_and_the_secret_shown_once(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    created = await new_subscription(api, description="CRM",
                                     event_types=["order.shipped", "order.delay_risk",
                                                  "order.shipped"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert created["active"] is True and created["consecutive_failures"] == 0
    assert created["event_types"] == ["order.shipped", "order.delay_risk"]
    assert created["created_by"] == "test-admin"

    one = (await call(api, "GET", f"/v1/subscriptions/{created['id']}")).json()
    listed = (await call(api, "GET", "/v1/subscriptions")).json()["items"]
    assert "secret" not in one and all("secret" not in s for s in listed)
    assert [s["id"] for s in listed] == [created["id"]]
    assert not any(secret in r.getMessage() or secret in str(r.__dict__)
                   for r in caplog.records)

    patched = await call(api, "PATCH", f"/v1/subscriptions/{created['id']}",
                         body={"url": "http://127.0.0.1:9/x", "event_types": ["order.delivered"]})
    assert patched.status_code == 200
    assert patched.json()["url"] == "http://127.0.0.1:9/x"
    assert patched.json()["event_types"] == ["order.delivered"]
    assert patched.json()["description"] == "CRM"

    off = (await call(api, "PATCH", f"/v1/subscriptions/{created['id']}",
                      body={"active": False})).json()
    assert off["active"] is False and off["disabled_reason"] == "disabled by test-admin"

    deleted = await call(api, "DELETE", f"/v1/subscriptions/{created['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == created["id"]
    for method in ("GET", "PATCH", "DELETE"):
        gone = await call(api, method, f"/v1/subscriptions/{created['id']}",
                          body={"active": True} if method == "PATCH" else None)
        assert gone.status_code == 404 and error_code(gone) == "subscription_not_found"


async def test_re_enabling_resets_the_failure_count(api: Api) -> None:
    created = await new_subscription(api)
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        for _ in range(3):
            subs_repo.record_failure(session, created["id"], "webhook answered 503",
                                     datetime.now(UTC), delivery_failed=True, max_failures=3)
    with session_factory(engine)() as session:
        alerts = inbox_repo.list_items(session, "admin", unread_only=False, limit=10)
    engine.dispose()
    disabled = (await call(api, "GET", f"/v1/subscriptions/{created['id']}")).json()
    assert disabled["active"] is False and disabled["consecutive_failures"] == 3
    assert disabled["disabled_reason"] == "3 consecutive failed deliveries"
    assert disabled["last_error"] == "webhook answered 503"
    assert [a.event_type for a in alerts] == ["webhook.disabled"]

    inbox = (await call(api, "GET", "/v1/inbox")).json()  # the admin sees the alert
    assert [i["event_type"] for i in inbox["items"]] == ["webhook.disabled"]

    enabled = (await call(api, "PATCH", f"/v1/subscriptions/{created['id']}",
                          body={"active": True})).json()
    assert enabled["active"] is True and enabled["consecutive_failures"] == 0
    assert enabled["disabled_at"] is None and enabled["disabled_reason"] is None


@pytest.mark.parametrize("method, body", [
    ("POST", {"url": "ftp://hooks.example.com/x", "event_types": ["order.shipped"]}),
    ("POST", {"url": "https://", "event_types": ["order.shipped"]}),
    ("POST", {"url": "hooks.example.com/x", "event_types": ["order.shipped"]}),
    ("POST", {"url": HOOK, "event_types": ["order.exploded"]}),
    ("POST", {"url": HOOK, "event_types": []}),
    ("POST", {"url": HOOK}),
    ("POST", {"url": HOOK, "event_types": ["order.shipped"], "secret": "mine"}),
    ("PATCH", {"url": None}),
    ("PATCH", {"event_types": ["nope"]}),
    ("PATCH", {"active": "sometimes"}),
])
async def test_invalid_subscriptions_are_422_in_the_envelope(
        api: Api, method: str, body: dict[str, Any]) -> None:
    path = "/v1/subscriptions"
    if method == "PATCH":
        path += "/" + (await new_subscription(api))["id"]
    resp = await call(api, method, path, body=body)
    assert resp.status_code == 422, resp.text
    assert error_code(resp) == "validation_error" and resp.json()["error"]["details"]["errors"]
    engine = make_engine(api.settings.db_url)
    with session_factory(engine)() as session:
        rows = session.query(WebhookSubscription).all()
    engine.dispose()
    assert all(r.url == HOOK and r.event_types == ["order.shipped"] for r in rows)


# -- inbox ----------------------------------------------------------------------------------


async def test_inbox_lists_the_callers_team_newest_first_and_marks_read(api: Api) -> None:
    ops = seed_inbox(api, "operator", 3)
    seed_inbox(api, "supervisor", 1)
    page = (await call(api, "GET", "/v1/inbox", "operator")).json()
    assert [i["id"] for i in page["items"]] == ops[::-1]
    assert page["unread_count"] == 3 and page["next_cursor"] is None
    assert all(i["team"] == "operator" for i in page["items"])

    read = await call(api, "POST", f"/v1/inbox/{ops[1]}/read", "operator")
    assert read.status_code == 200
    assert read.json()["read_by"] == "test-operator" and read.json()["read_at"]
    again = await call(api, "POST", f"/v1/inbox/{ops[1]}/read", "admin")
    assert again.status_code == 404  # the admin's team is "admin": not its item
    twice = await call(api, "POST", f"/v1/inbox/{ops[1]}/read", "operator")
    assert twice.json()["read_at"] == read.json()["read_at"]

    unread = (await call(api, "GET", "/v1/inbox", "operator", unread="true")).json()
    assert [i["id"] for i in unread["items"]] == [ops[2], ops[0]]
    assert unread["unread_count"] == 2

    missing = await call(api, "POST", "/v1/inbox/nope/read", "operator")
    assert missing.status_code == 404 and error_code(missing) == "inbox_item_not_found"
    supervisor = (await call(api, "GET", "/v1/inbox", "supervisor")).json()["items"]
    assert [i["team"] for i in supervisor] == ["supervisor"]


async def test_inbox_pages_with_a_cursor(api: Api) -> None:
    ids = seed_inbox(api, "operator", 5)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await call(api, "GET", "/v1/inbox", "operator", **params)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ids[::-1]
    bad = await call(api, "GET", "/v1/inbox", "operator", cursor="garbage!")
    assert bad.status_code == 422 and error_code(bad) == "invalid_cursor"


async def test_a_key_with_a_team_reads_that_teams_inbox(api: Api) -> None:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        _, key = create_key(session, "Zhang Wei", "operator", team="kam:zhang.wei")
    engine.dispose()
    [mine] = seed_inbox(api, "kam:zhang.wei")
    seed_inbox(api, "operator")
    resp = await api.http.get("/v1/inbox", headers={"Authorization": f"Bearer {key}"})
    assert [i["id"] for i in resp.json()["items"]] == [mine]
