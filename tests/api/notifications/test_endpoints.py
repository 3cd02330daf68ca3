"""The subscription admin API and the team inbox API over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from activities.notify.delivery_start import DeliveryStarter
from activities.notify.webhook_signing import verify
from api.deps import Role
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.notifications import inbox as inbox_repo
from db.notifications import subscriptions as subs_repo
from db.notifications.models import OutboxRow, WebhookSubscription
from tests.support.api_harness import Api, StackFactory
from tests.support.notify_harness import (
    await_deliveries,
    deliver_all,
    notifier_worker,
    webhook_receiver,
)
from tests.support.subscriptions_harness import HOOK, call, new_subscription, seed_deliveries

ADMINS = {"admin"}
INBOX_READERS = {"operator", "supervisor", "admin"}


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"worker": False}


def error_code(resp: httpx.Response) -> str:
    return resp.json()["error"]["code"]


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


@pytest.mark.one_engine
@pytest.mark.parametrize("role", [r.value for r in Role])
async def test_authz_matrix_for_every_notification_endpoint(api: Api, role: str) -> None:
    existing = await new_subscription(api)
    [item_id] = seed_inbox(api, role)
    [delivery_id] = seed_deliveries(api, existing["id"], ["delivered"])
    endpoints: list[tuple[str, str, dict[str, Any] | None, set[str], int]] = [
        ("POST", "/v1/subscriptions", {"url": HOOK, "event_types": ["order.delivered"]},
         ADMINS, 201),
        ("GET", "/v1/subscriptions", None, ADMINS, 200),
        ("GET", f"/v1/subscriptions/{existing['id']}", None, ADMINS, 200),
        ("PATCH", f"/v1/subscriptions/{existing['id']}", {"description": "CRM"}, ADMINS, 200),
        ("POST", f"/v1/subscriptions/{existing['id']}/rotate-secret", None, ADMINS, 200),
        ("GET", f"/v1/subscriptions/{existing['id']}/deliveries", None, ADMINS, 200),
        ("POST", f"/v1/subscriptions/{existing['id']}/deliveries/{delivery_id}/redeliver",
         None, ADMINS, 202),
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


@pytest.mark.one_engine
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


# -- delivery log, redelivery, rotation -----------------------------------------------------


async def test_the_delivery_log_pages_newest_first_filters_and_bounds_its_inputs(
        api: Api) -> None:
    sub = await new_subscription(api)
    other = await new_subscription(api, event_types=["order.delivered"])
    ids = seed_deliveries(api, sub["id"], ["delivered", "failed", "pending", "failed",
                                           "delivered"])
    seed_deliveries(api, other["id"], ["failed"], event_type="order.delivered")
    path = f"/v1/subscriptions/{sub['id']}/deliveries"
    seen, cursor = [], None
    for _ in range(5):
        page = (await call(api, "GET", path, limit=2,
                           **({"cursor": cursor} if cursor else {}))).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [d["id"] for d in seen] == ids[::-1]
    assert seen[0]["event_type"] == "order.shipped" and seen[0]["order_id"] == "SO-4"
    assert set(seen[0]) == {"id", "event_type", "order_id", "status", "attempts",
                            "last_http_status", "last_error", "created_at", "last_attempt_at",
                            "next_attempt_at", "delivered_at"}
    failed = (await call(api, "GET", path, status="failed")).json()["items"]
    assert [d["id"] for d in failed] == [ids[3], ids[1]]

    for params, code in (({"limit": 201}, "validation_error"),
                         ({"limit": 0}, "validation_error"),
                         ({"status": "uncertain"}, "validation_error"),
                         ({"cursor": "garbage!"}, "invalid_cursor")):
        bad = await call(api, "GET", path, **params)
        assert bad.status_code == 422 and error_code(bad) == code, params
    missing = await call(api, "GET", "/v1/subscriptions/sub_nope/deliveries")
    assert missing.status_code == 404 and error_code(missing) == "subscription_not_found"


async def test_redelivery_is_for_delivered_and_failed_messages_only(api: Api) -> None:
    sub = await new_subscription(api)
    other = await new_subscription(api, event_types=["order.delivered"])
    delivered, failed, skipped, sending = seed_deliveries(
        api, sub["id"], ["delivered", "failed", "skipped", "sending"])
    [not_ours] = seed_deliveries(api, other["id"], ["failed"], event_type="order.delivered")
    base = f"/v1/subscriptions/{sub['id']}/deliveries"

    for row_id in (delivered, failed):
        resp = await call(api, "POST", f"{base}/{row_id}/redeliver")
        assert resp.status_code == 202, resp.text
        assert resp.json()["id"] == row_id and resp.json()["status"] == "pending"
        handle = api.temporal.get_workflow_handle(f"delivery-{row_id}")
        assert (await handle.describe()).workflow_type == "DeliveryWorkflow"
    again = await call(api, "POST", f"{base}/{delivered}/redeliver")  # still pending: harmless
    assert again.status_code == 202

    for row_id, status, code in ((skipped, 409, "not_redeliverable"),
                                 (sending, 409, "delivery_in_progress"),
                                 (not_ours, 404, "delivery_not_found"),
                                 ("nope", 404, "delivery_not_found")):
        resp = await call(api, "POST", f"{base}/{row_id}/redeliver")
        assert resp.status_code == status and error_code(resp) == code, (row_id, resp.text)
        assert set(resp.json()["error"]) == {"code", "message", "details", "request_id"}
    await call(api, "PATCH", f"/v1/subscriptions/{sub['id']}", body={"active": False})
    disabled = await call(api, "POST", f"{base}/{failed}/redeliver")
    assert disabled.status_code == 409 and error_code(disabled) == "subscription_disabled"


async def test_redelivery_when_temporal_does_not_answer_in_time_is_503_and_queued(
        make_stack: StackFactory, db_url: str) -> None:
    async with make_stack(db_url, worker=False,
                          temporal_deadline_seconds=1e-6) as api:
        sub = await new_subscription(api)
        [row_id] = seed_deliveries(api, sub["id"], ["failed"])
        resp = await call(api, "POST",
                          f"/v1/subscriptions/{sub['id']}/deliveries/{row_id}/redeliver")
        assert resp.status_code == 503 and error_code(resp) == "temporal_unavailable"
        assert resp.headers["Retry-After"] == "5"
        log = (await call(api, "GET", f"/v1/subscriptions/{sub['id']}/deliveries")).json()
    assert log["items"][0]["status"] == "pending"  # reopened: the sweep sends it


async def test_a_failing_receiver_shows_in_the_log_without_its_body_and_a_redelivery_arrives(
        make_stack: StackFactory, db_url: str, task_queue: str) -> None:
    """The receiver answers 500 with a body that must never be stored or shown; once fixed,
    an admin redelivers the failed message and it arrives with the same webhook-id."""
    body = b"Traceback: password=hunter2 at db.internal"
    with webhook_receiver(always_fail=True, answer=body) as receiver:
        async with make_stack(db_url) as api:
            created = (await call(api, "POST", "/v1/subscriptions", body={
                "url": receiver.url, "event_types": ["order.shipped"]})).json()
            receiver.secret = created["secret"]
            [row_id] = seed_deliveries(api, created["id"], ["pending"])
            # Two quick attempts, not a day's: the test's stand-in for DeliveryWorkflow.
            async with notifier_worker(api.temporal, db_url, f"{task_queue}-quick",
                                       api.settings):
                assert await deliver_all(api.temporal, f"{task_queue}-quick", [row_id],
                                         maximum_attempts=2) == ["failed"]
            path = f"/v1/subscriptions/{created['id']}/deliveries"
            log = await call(api, "GET", path)
            [item] = log.json()["items"]
            assert item["id"] == row_id and item["status"] == "failed"
            assert item["attempts"] == 2 and item["last_http_status"] == 500
            assert item["last_error"] == "webhook answered 500"
            sub = (await call(api, "GET", f"/v1/subscriptions/{created['id']}")).json()
            assert sub["last_error"] == "webhook answered 500"
            assert sub["consecutive_failures"] == 1

            receiver.always_fail = False
            redo = await call(api, "POST", f"{path}/{row_id}/redeliver")
            assert redo.status_code == 202
            assert await await_deliveries(api.temporal, [row_id]) == ["delivered"]
            [item] = (await call(api, "GET", path)).json()["items"]
            shown = log.text + json.dumps(sub) + json.dumps(item)
    assert item["status"] == "delivered" and item["last_http_status"] == 200
    assert item["attempts"] == 3 and item["delivered_at"] and item["last_error"] is None
    assert [r.delivery_id for r in receiver.requests] == [row_id] * 3
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert "hunter2" not in shown
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        stored = [r.last_error for r in session.query(OutboxRow)] + [
            s.last_error for s in session.query(WebhookSubscription)]
    engine.dispose()
    assert not any("hunter2" in (e or "") for e in stored)


async def test_rotating_the_secret_signs_with_both_during_the_overlap_then_only_the_new(
        make_stack: StackFactory, db_url: str, task_queue: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with webhook_receiver() as receiver:
        async with make_stack(db_url) as api:
            created = (await call(api, "POST", "/v1/subscriptions", body={
                "url": receiver.url, "event_types": ["order.shipped"]})).json()
            old = receiver.secret = created["secret"]
            rotate = f"/v1/subscriptions/{created['id']}/rotate-secret"
            for bad in ({"overlap_seconds": 7 * 24 * 3600 + 1}, {"overlap_seconds": -1},
                        {"overlap_seconds": 60, "extra": 1}):
                resp = await call(api, "POST", rotate, body=bad)
                assert resp.status_code == 422 and error_code(resp) == "validation_error"
            rotated = await call(api, "POST", rotate)  # no body: a day of overlap
            assert rotated.status_code == 200
            new = rotated.json()["secret"]
            assert new != old and new.startswith("whsec_")
            until = datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
            assert timedelta(hours=23, minutes=59) < until - datetime.now(UTC) <= timedelta(
                hours=24)
            assert "secret" not in (await call(
                api, "GET", f"/v1/subscriptions/{created['id']}")).json()

            first = seed_deliveries(api, created["id"], ["pending"])
            await DeliveryStarter(api.temporal, task_queue).start(first)
            assert await await_deliveries(api.temporal, first) == ["delivered"]

            newest = (await call(api, "POST", rotate, body={"overlap_seconds": 0})).json()
            receiver.secret = newest["secret"]  # the receiver moves on to the newest
            second = seed_deliveries(api, created["id"], ["pending"])
            await DeliveryStarter(api.temporal, task_queue).start(second)
            assert await await_deliveries(api.temporal, second) == ["delivered"]

    during, after = receiver.requests
    assert during.signature_ok  # the receiver still on the old secret accepts it
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify(new, during.headers, during.raw) and verify(old, during.headers, during.raw)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert verify(newest["secret"], after.headers, after.raw)
    assert not verify(new, after.headers, after.raw) and after.signature_ok
    assert not any(s in str(r.__dict__) for r in caplog.records
                   for s in (old, new, newest["secret"]))


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
