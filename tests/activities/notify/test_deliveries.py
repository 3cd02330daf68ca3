"""The notification outbox: rows, templates, signatures, and real deliveries with real retries.

Deliveries run the notifier activity on the Temporal dev server (DELIVERY_RETRY with short
intervals), against a real HTTP receiver and a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import signal
import string
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.notify.attempt import retry_delays
from activities.notify.deliver import DELIVERY_RETRY, NotifierActivities
from activities.notify.webhook_channel import HELD_REASON
from activities.notify.webhook_signing import secret_key, sign_headers, verify
from config import REPO_ROOT, Settings
from db.engine import transaction
from db.notifications import subscriptions as subs_repo
from db.notifications.delivery_state import claim, finish, release, reopen, settle, stranded
from db.notifications.inbox import list_items
from db.notifications.models import InboxItem, OutboxRow, OutboxStatus, WebhookSubscription
from db.notifications.outbox import Audience, Notice, NotificationEvent, enqueue, outbox_id
from db.notifications.templates import (
    LOCALES,
    TEMPLATE_DIR,
    load,
    render,
    sections,
    template_path,
)
from schedules import OUTBOX_SWEEP_ID, SCHEDULE_IDS, ensure_schedules
from tests.support.notify_harness import (
    LOOPBACK_CERT,
    await_deliveries,
    deliver_all,
    notifier_worker,
    smtp_server,
    webhook_receiver,
)
from tests.support.outbox import delay_risk, enqueue_now, rows, subscribe
from tests.support.worker_harness import running_worker
from workflows.ids import delivery_workflow_id
from workflows.notify.delivery import DeliveryWorkflow
from workflows.notify.types import DeliverInput, DeliveryInput, SweepResult
from workflows.order.event_data import EVENTS

# Every variable a template may use; README's "Notifications" section documents them.
TEMPLATE_VARIABLES = {
    "order_id", "escalation_id", "event_type", "customer_name", "promised_delivery_by",
    "carrier", "tracking_no", "eta", "delivered_at", "level", "previous_level", "kind",
    "stage", "due_at", "survey_url", "expires_at",
    "complaint_id", "category", "department", "description", "reply", "plan", "promised_by",
    "resolution",
    "claim_id", "cause_text", "amount", "currency", "voucher", "outcome_text",
    "reason", "text", "available", "decision_due_at", "new_promise", "phone", "calls_made",
    "month", "due", "attempted", "answered", "follow_up_rate", "successful_follow_up_rate",
    "satisfaction", "late_change_count", "late_changes", "satisfaction_by_question",
    "top_problems", "report_url",
    "tracking_url", "opt_out_url",  # issue 19 §3: every customer notice about an order
    # what an order event's notice quotes from its data, as its declaration says
    *(name for spec in EVENTS.values() for name in spec.quote),
}
ALERT_VARIABLES = {"subscription_id", "url", "failures", "last_error", "disabled_at"}


def level_changed(order_id: str, teams: list[str], level: int = 2) -> Notice:
    return Notice(
        key=f"{order_id}:esc-1:level-{level}",
        event_type=NotificationEvent.ESCALATION_LEVEL_CHANGED, audience=Audience.STAFF,
        order_id=order_id, teams=teams, escalation_id=f"{order_id}:esc-1",
        data={"level": level, "previous_level": level - 1, "kind": "scan_gap",
              "stage": "in_transit", "customer_name": "Sanghong Apparel",
              "due_at": "2026-12-02T08:00:00Z"})


# -- templates ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("event_type", [*NotificationEvent, subs_repo.WEBHOOK_DISABLED])
def test_every_template_exists_in_both_languages(locale: str, event_type: str) -> None:
    path = template_path(locale, event_type)
    assert path.is_file(), f"missing template {path.relative_to(REPO_ROOT)}"
    subject, body = load(locale, event_type)
    assert subject.strip() and body.strip()
    known = ALERT_VARIABLES if event_type == subs_repo.WEBHOOK_DISABLED else TEMPLATE_VARIABLES
    used = {name for _, name, _, _ in string.Formatter().parse(subject + body) if name}
    assert used <= known, f"undocumented variables {used - known} in {path.name}"


def test_no_template_without_an_event_type() -> None:
    known = {*NotificationEvent, subs_repo.WEBHOOK_DISABLED}
    both = {p.stem for p in TEMPLATE_DIR.glob("*.txt")}
    for locale in LOCALES:
        names = {p.stem for p in (TEMPLATE_DIR / locale).glob("*.txt")}
        assert names | both == known, locale
        assert names & both == set(), f"{locale}: a template in two places"
    for name in both:  # a file of every language has exactly the languages Waybill speaks
        assert sorted(sections((TEMPLATE_DIR / f"{name}.txt").read_text("utf-8"))) == \
            sorted(LOCALES), name


def test_render_picks_the_language_and_marks_missing_values() -> None:
    values = {"order_id": "SO-1", "customer_name": "Li Lei", "eta": "2026-12-04T09:00:00Z"}
    subject_zh, body_zh = render("zh-CN", NotificationEvent.ORDER_DELAY_RISK, values)
    subject_en, body_en = render("en", NotificationEvent.ORDER_DELAY_RISK, values)
    assert subject_zh == "您的订单 SO-1 可能延迟送达"
    assert subject_en == "Your order SO-1 may arrive late"
    assert "2026-12-04 09:00 UTC" in body_zh and "2026-12-04 09:00 UTC" in body_en
    assert "运单号 -" in body_zh  # tracking_no missing: a visible dash, not an error
    assert render("fr", NotificationEvent.ORDER_DELAY_RISK, values)[0] == subject_zh
    assert render("en-GB", NotificationEvent.ORDER_DELAY_RISK, values)[0] == subject_en


# -- signatures -----------------------------------------------------------------------------


LEGACY_SECRET = "whsec_" + "Zm9vYmFy-_" * 4  # URL-safe base64, as secrets were made before


def signed(secrets: list[str], msg_id: str, body: bytes,
           timestamp: int | None = None) -> dict[str, str]:
    return sign_headers(secrets, msg_id, body, timestamp)


def test_signature_is_standard_webhooks_and_rejects_tampering_replays_and_junk() -> None:
    secret, body, msg_id = subs_repo.new_secret(), b'{"id":"evt_1","type":"order.shipped"}', "a1"
    now = int(time.time())
    headers = signed([secret], msg_id, body, now)
    assert headers["webhook-id"] == msg_id and headers["webhook-timestamp"] == str(now)
    # Standard Webhooks 1.0: v1,<base64 HMAC-SHA256(key, "id.timestamp.body")>, key from whsec_.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{now}.".encode() + body,
                                         hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert verify(secret, headers, body, now=now)
    assert verify(secret, {k.upper(): v for k, v in headers.items()}, body, now=now)
    assert verify(secret, headers, body, now=now + 299)
    assert not verify(secret, headers, body, now=now + 301)  # a replay, too late
    assert not verify(secret, headers, body, now=now - 301)
    assert not verify(secret, headers, body + b" ", now=now)
    assert not verify(secret, {**headers, "webhook-id": "a2"}, body, now=now)
    assert not verify(subs_repo.new_secret(), headers, body, now=now)
    assert not verify(secret, {}, body, now=now)
    assert not verify(secret, {**headers, "webhook-timestamp": "abc"}, body, now=now)
    assert not verify(secret, {**headers, "webhook-signature": "v1,abc 签名"}, body, now=now)
    assert not verify("whsec_not base64!", headers, body, now=now)
    # The legacy header still signs for one release, keyed with the whole secret string.
    assert headers["Waybill-Delivery"] == msg_id
    assert headers["Waybill-Signature"] == f"t={now},v1=" + hmac.new(
        secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()


def test_rotation_sends_both_signatures_and_old_url_safe_secrets_keep_working() -> None:
    body, now = b"{}", int(time.time())
    both = signed([subs_repo.new_secret(), LEGACY_SECRET], "a1", body, now)
    assert len(both["webhook-signature"].split(" ")) == 2
    assert verify(LEGACY_SECRET, both, body, now=now)  # a receiver still on the old secret
    assert secret_key(LEGACY_SECRET) == base64.urlsafe_b64decode(
        LEGACY_SECRET.removeprefix("whsec_") + "=" * (-len(LEGACY_SECRET) % 4))


def readme_verify() -> Callable[..., bool]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    snippet = readme.split("\n## Webhooks\n", 1)[1].split("```python\n", 1)[1].split("```")[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace["verify_webhook"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("secret", [subs_repo.new_secret(), LEGACY_SECRET],
                         ids=["standard-base64", "url-safe-base64"])
def test_the_readme_verification_snippet_accepts_our_signatures(secret: str) -> None:
    verify_webhook = readme_verify()
    body = '{"id":"evt_1","data":{"客户":"上海"}}'.encode()
    headers = signed([secret], "row-1", body)
    assert verify_webhook(secret, headers, body)
    assert verify_webhook(secret, {k.title(): v for k, v in headers.items()}, body)
    assert verify_webhook(secret, signed([subs_repo.new_secret(), secret], "row-1", body), body)
    assert not verify_webhook(subs_repo.new_secret(), headers, body)
    assert not verify_webhook(secret, headers, body + b" ")
    assert not verify_webhook(secret, {**headers, "webhook-id": "row-2"}, body)
    assert not verify_webhook(secret, signed([secret], "row-1", body, int(time.time()) - 301),
                              body)
    assert not verify_webhook(secret, {}, body)


def test_the_retry_schedule_covers_a_day_on_durable_timers() -> None:
    delays = retry_delays(DELIVERY_RETRY)
    assert delays[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert max(delays) == timedelta(hours=1) and delays[-1] == timedelta(hours=1)
    total = sum(delays, timedelta())
    assert timedelta(hours=24) <= total < timedelta(hours=25)
    assert len(delays) + 1 == DELIVERY_RETRY.maximum_attempts == 34
    # The last attempt starts after a day: one fewer attempt would not cover it.
    assert sum(delays[:-1], timedelta()) < timedelta(hours=24)


# -- enqueue --------------------------------------------------------------------------------


def test_enqueue_writes_one_row_per_channel_and_recipient(
        sessions: sessionmaker[Session]) -> None:
    wanted, _ = subscribe(sessions, "http://127.0.0.1:9/a")
    subscribe(sessions, "http://127.0.0.1:9/b", [NotificationEvent.ORDER_SHIPPED.value])
    disabled, _ = subscribe(sessions, "http://127.0.0.1:9/c")
    with transaction(sessions) as session:
        row = subs_repo.get(session, disabled)
        assert row is not None
        subs_repo.change(session, row, subs_repo.Changes(active=False), "test")

    notice = delay_risk(locale="en", teams=["operator", "operator", "kam:zhang"])
    ids = enqueue_now(sessions, [notice])
    written = rows(sessions)
    assert sorted((r.channel, r.recipient) for r in written) == sorted([
        ("webhook", wanted), ("email", "buyer@example.com"),
        ("inbox", "operator"), ("inbox", "kam:zhang")])
    # The in-app copies are in the teams' inboxes at once; webhook and email await delivery.
    assert sorted(ids) == sorted(r.id for r in written if r.channel in ("webhook", "email"))
    assert {r.channel: r.status for r in written if r.channel != "inbox"} == {
        "webhook": OutboxStatus.PENDING, "email": OutboxStatus.PENDING}
    assert {r.status for r in written if r.channel == "inbox"} == {OutboxStatus.DELIVERED}
    with sessions() as session:
        assert {i.team for i in session.scalars(select(InboxItem))} == {"operator", "kam:zhang"}
    assert {r.id for r in written} == {outbox_id(notice.key, r.channel, r.recipient)
                                       for r in written}
    email = next(r for r in written if r.channel == "email")
    assert email.locale == "en" and email.subject == f"Your order {notice.order_id} may arrive late"
    assert email.payload["type"] == "order.delay_risk"
    assert email.payload["data"]["tracking_no"] == "SF1234567890"


def test_enqueue_is_idempotent_and_returns_only_rows_awaiting_delivery(
        sessions: sessionmaker[Session]) -> None:
    notice = delay_risk(teams=["operator"])
    subscribe(sessions, "http://127.0.0.1:9/a")
    first = enqueue_now(sessions, [notice])
    again = enqueue_now(sessions, [notice])
    assert first == again and len(first) == 2  # the webhook and the email
    with transaction(sessions) as session:
        assert settle(session, first[0], OutboxStatus.DELIVERED, None, datetime.now(UTC))
    assert enqueue_now(sessions, [notice]) == first[1:]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(OutboxRow)) == 3
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 1


def test_enqueue_is_part_of_the_callers_transaction(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        assert enqueue(session, [delay_risk()])
        raise RuntimeError("the causing event failed to commit")
    assert rows(sessions) == []


def test_enqueue_rejects_unknown_types_and_skips_absent_recipients(
        sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ValueError, match="unknown notification event type"), \
            transaction(sessions) as session:
        enqueue(session, [Notice(key="k", event_type="order.exploded", audience="customer",
                                 order_id="SO-1")])
    with pytest.raises(ValueError, match="audience"), transaction(sessions) as session:
        enqueue(session, [Notice(key="k", event_type="order.shipped", audience="board",
                                 order_id="SO-1")])
    assert enqueue_now(sessions, [delay_risk(email=None)]) == []  # nobody to tell
    assert enqueue_now(sessions, []) == []


def test_outbox_state_changes_are_conditional_and_a_dead_claim_is_taken_over(
        sessions: sessionmaker[Session]) -> None:
    [row_id] = enqueue_now(sessions, [delay_risk()])
    now = datetime.now(UTC)
    later = now + timedelta(minutes=2)

    def status() -> tuple[str, int]:
        [row] = rows(sessions, [row_id])
        return row.status, row.attempts

    with transaction(sessions) as session:
        assert claim(session, row_id, "first", now, now + timedelta(minutes=1))
        assert not claim(session, row_id, "second", now, now + timedelta(minutes=1))  # live
    assert status() == ("sending", 1)
    with transaction(sessions) as session:
        assert not release(session, row_id, "second", "not mine", later)
        assert release(session, row_id, "first", "webhook answered 503", later, 503)
        assert not reopen(session, row_id)  # pending: nothing to redeliver
        assert claim(session, row_id, "third", now, now + timedelta(minutes=1))
    assert status() == ("sending", 2)
    # "third" died after it may have sent: once its deadline passed, the row is sent again.
    with transaction(sessions) as session:
        assert not claim(session, row_id, "fourth", now + timedelta(seconds=30), later)
        assert claim(session, row_id, "fifth", later, later + timedelta(minutes=1))
        assert not finish(session, row_id, "third", OutboxStatus.DELIVERED, None, later)
        assert finish(session, row_id, "fifth", OutboxStatus.DELIVERED, None, later, 204)
    assert status() == ("delivered", 3)
    [row] = rows(sessions, [row_id])
    assert row.last_http_status == 204 and row.claim_expires_at is None
    with transaction(sessions) as session:
        assert reopen(session, row_id) and not reopen(session, row_id)
    assert status() == ("pending", 3)


def test_the_sweep_finds_rows_no_delivery_is_looking_after(
        sessions: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    old = now - timedelta(minutes=10)
    sub_id, _ = subscribe(sessions, "http://127.0.0.1:9/a")
    off_id, _ = subscribe(sessions, "http://127.0.0.1:9/b")
    ids = enqueue_now(sessions, [delay_risk(email=None) for _ in range(7)])
    mine = [i for i in ids if rows(sessions, [i])[0].recipient == sub_id]
    [off] = [i for i in ids if rows(sessions, [i])[0].recipient == off_id][:1]
    fresh, stale, backing_off, dead, alive, done = mine[:6]
    values: dict[str, dict[str, Any]] = {
        fresh: {}, stale: {"created_at": old},
        backing_off: {"created_at": old, "last_attempt_at": old,
                      "next_attempt_at": now + timedelta(minutes=30)},
        dead: {"created_at": old, "status": "sending", "claim": "gone",
               "claim_expires_at": old},
        alive: {"created_at": old, "status": "sending", "claim": "busy",
                "claim_expires_at": now + timedelta(seconds=30)},
        done: {"created_at": old, "status": "delivered"},
        off: {"created_at": old}}
    with transaction(sessions) as session:
        for row_id, change in values.items():
            if change:
                session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**change))
        sub = subs_repo.get(session, off_id)
        assert sub is not None
        subs_repo.change(session, sub, subs_repo.Changes(active=False), "test")
    with sessions() as session:
        found = stranded(session, now, timedelta(minutes=5), limit=100)
        assert stranded(session, now, timedelta(minutes=5), limit=1) == found[:1]
    assert set(found) == {stale, dead}  # the held row of the disabled subscription waits


async def test_a_workflow_from_before_deliveries_were_workflows_leaves_the_row_to_them(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    """Its history calls the notifier without `delivery_workflow`: nothing is sent or
    claimed, so the row's DeliveryWorkflow (or the sweep) is its only sender."""
    [row_id] = enqueue_now(sessions, [delay_risk(teams=[])])  # an email
    notifier = NotifierActivities(sessions, settings_for(db_url, tmp_path))
    assert ActivityEnvironment().run(notifier.deliver, DeliverInput(row_id)) == "handed_off"
    [row] = rows(sessions, [row_id])
    assert row.status == OutboxStatus.PENDING and row.attempts == 0


# -- webhook delivery -----------------------------------------------------------------------


def settings_for(db_url: str, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path, **extra)


async def test_webhook_arrives_once_signed_despite_a_failure_and_a_retry(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    with webhook_receiver(fail_first=1) as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url)
        notices = [delay_risk() for _ in range(3)]
        ids = enqueue_now(sessions, notices)
        assert len(ids) == 6  # a webhook and an email each; email is skipped without SMTP
        async with notifier_worker(dev_env.client, db_url, task_queue,
                                   settings_for(db_url, tmp_path)):
            results = await deliver_all(dev_env.client, task_queue, ids)
            # Delivering again (a retried caller) sends nothing more.
            again = await deliver_all(dev_env.client, task_queue, ids)

    webhook_ids = [r.id for r in rows(sessions) if r.channel == "webhook"]
    by_id = dict(zip(ids, results, strict=True))
    assert [by_id[i] for i in webhook_ids] == ["delivered"] * 3
    assert sorted(set(again)) == ["already_delivered", "skipped"]
    assert all(r.signature_ok for r in receiver.requests)
    assert [r.status for r in receiver.requests] == [500, 200, 200, 200]
    assert Counter(receiver.accepted) == Counter(webhook_ids)  # each exactly once
    first = receiver.requests[1]
    assert first.event_type == "order.delay_risk" and first.body["type"] == "order.delay_risk"
    assert first.body["order_id"] in {n.order_id for n in notices}
    assert first.body["message"]["subject"].startswith("您的订单")
    assert {r.delivery_id for r in receiver.requests[:2]} == {receiver.requests[0].delivery_id}

    attempts = {r.id: r.attempts for r in rows(sessions, webhook_ids)}
    assert sorted(attempts.values()) == [1, 1, 2]
    email_rows = [r for r in rows(sessions) if r.channel == "email"]
    assert {(r.status, r.last_error) for r in email_rows} == {("skipped", "smtp not configured")}
    with sessions() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and sub.active and sub.consecutive_failures == 0
        assert sub.last_success_at is not None and "500" in (sub.last_error or "")


async def test_a_receiver_that_always_fails_is_disabled_with_an_admin_alert(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(db_url, tmp_path, webhook_max_failures=2)
    with webhook_receiver(always_fail=True) as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url)
        ids = enqueue_now(sessions, [delay_risk(email=None) for _ in range(3)])
        async with notifier_worker(dev_env.client, db_url, task_queue, settings):
            results = await deliver_all(dev_env.client, task_queue, ids, maximum_attempts=3)

    # Two deliveries fail (3 attempts each), which disables the subscription; the third
    # message is then held (not sent, no attempt counted) rather than sent to a receiver known
    # to be down: it goes out once an admin re-enables the subscription.
    assert results == ["failed", "failed", "held"]
    assert len(receiver.requests) == 6 and receiver.accepted == []
    assert [r.attempts for r in rows(sessions, ids)] == [3, 3, 0]
    assert [r.status for r in rows(sessions, ids)] == ["failed", "failed", "pending"]
    assert rows(sessions, ids)[2].last_error == HELD_REASON
    assert {r.last_error for r in rows(sessions, ids[:2])} == {"webhook answered 500"}
    with sessions() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and not sub.active and sub.disabled_at is not None
        assert sub.consecutive_failures == 2  # deliveries, not attempts (6 of those)
        alerts = list_items(session, "admin", unread_only=True, limit=10)
    assert len(alerts) == 1 and alerts[0].event_type == "webhook.disabled"
    assert sub_id in alerts[0].title and receiver.url in alerts[0].body
    disabled = [r for r in caplog.records if r.getMessage().startswith("webhook subscription "
                                                                       "disabled")]
    assert len(disabled) == 1 and disabled[0].levelno == logging.ERROR
    assert disabled[0].subscription_id == sub_id  # type: ignore[attr-defined]
    assert not any(receiver.secret in r.getMessage() or receiver.secret in str(r.__dict__)
                   for r in caplog.records)

    # No new rows for a disabled subscription.
    assert enqueue_now(sessions, [delay_risk(email=None)]) == []


async def test_a_worker_killed_mid_delivery_means_a_resend_with_the_same_webhook_id(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    """The worker dies after the request reached the receiver but before the outcome was
    written; Temporal retries the activity on another worker, which sends again (the first
    answer was lost): the receiver gets it twice, with one webhook-id to de-duplicate on."""
    activity_queue = f"{task_queue}-act"
    settings = settings_for(db_url, tmp_path)
    with webhook_receiver(hold=True) as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url)
        [row_id] = enqueue_now(sessions, [delay_risk(email=None)])
        env = {**os.environ, "WAYBILL_DATABASE_URL": db_url, "WAYBILL_DATA_DIR": str(tmp_path)}
        doomed = subprocess.Popen(
            [sys.executable, "-m", "tests.support.notify_harness", dev_env.client.service_client
             .config.target_host, activity_queue],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            assert doomed.stdout is not None
            ready = await asyncio.to_thread(doomed.stdout.readline)
            assert ready.strip() == "ready"
            async with notifier_worker(dev_env.client, db_url, task_queue, settings,
                                       activities=False):
                run = asyncio.create_task(deliver_all(
                    dev_env.client, task_queue, [row_id], activity_task_queue=activity_queue,
                    start_to_close_seconds=3))
                assert await asyncio.to_thread(receiver.arrived.wait, 30)
                assert rows(sessions, [row_id])[0].status == OutboxStatus.SENDING
                os.kill(doomed.pid, signal.SIGKILL)
                doomed.wait(10)
                receiver.release.set()  # the receiver took the message; nobody hears it
                # A healthy worker takes the retry once the dead attempt times out.
                async with notifier_worker(dev_env.client, db_url, activity_queue, settings,
                                           workflows=False):
                    results = await asyncio.wait_for(run, 60)
        finally:
            if doomed.poll() is None:
                doomed.kill()
                doomed.wait(10)

    assert results == ["delivered"]
    assert [r.delivery_id for r in receiver.requests] == [row_id, row_id]
    assert all(r.signature_ok for r in receiver.requests)
    assert receiver.requests[0].raw == receiver.requests[1].raw  # the same message
    [row] = rows(sessions, [row_id])
    assert row.status == OutboxStatus.DELIVERED and row.attempts == 2
    assert row.last_http_status == 200 and row.claim is not None
    with sessions() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and sub.active and sub.consecutive_failures == 0


@pytest.mark.one_engine
async def test_a_receiver_that_times_out_gets_the_message_again(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    """A read timeout means the receiver may or may not have taken it: sent again."""
    settings = settings_for(db_url, tmp_path, webhook_timeout_seconds=0.5)
    with webhook_receiver(hold=True) as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url)
        ids = enqueue_now(sessions, [delay_risk(email=None)])
        async with notifier_worker(dev_env.client, db_url, task_queue, settings):
            run = asyncio.create_task(deliver_all(dev_env.client, task_queue, ids))
            assert await asyncio.to_thread(receiver.arrived.wait, 30)
            receiver.hold = False  # the first request stays held past the sender's timeout
            assert await asyncio.wait_for(run, 30) == ["delivered"]
    assert [r.delivery_id for r in receiver.requests] == ids * 2
    [row] = rows(sessions, ids)
    assert row.status == OutboxStatus.DELIVERED and row.attempts == 2
    with sessions() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and sub.consecutive_failures == 0
        assert sub.last_error == "webhook ReadTimeout"


async def test_deleted_subscription_rows_are_skipped(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    with webhook_receiver() as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url)
        ids = enqueue_now(sessions, [delay_risk(email=None)])
        with transaction(sessions) as session:
            row = subs_repo.get(session, sub_id)
            assert row is not None
            subs_repo.delete(session, row)
        async with notifier_worker(dev_env.client, db_url, task_queue,
                                   settings_for(db_url, tmp_path)):
            assert await deliver_all(dev_env.client, task_queue, ids) == ["skipped"]
    assert receiver.requests == []
    assert rows(sessions, ids)[0].last_error == "subscription deleted"


# -- deliveries of their own, and the sweep -------------------------------------------------


async def sweep_by_schedule(client: Client) -> SweepResult:
    """Trigger the production sweep schedule once and wait for its run's result."""
    handle = client.get_schedule_handle(OUTBOX_SWEEP_ID)
    before = len((await handle.describe()).info.recent_actions)
    await handle.trigger()
    for _ in range(600):  # a loaded machine's dev server may take tens of seconds to start it
        actions = (await handle.describe()).info.recent_actions
        if len(actions) > before:
            action = actions[-1].action
            return await client.get_workflow_handle(
                action.workflow_id,  # type: ignore[attr-defined]
                run_id=action.first_execution_run_id,  # type: ignore[attr-defined]
                result_type=SweepResult).result()
        await asyncio.sleep(0.1)
    raise AssertionError("the sweep schedule did not run")


async def test_rows_left_pending_by_a_terminated_workflow_are_swept_and_held_rows_wait(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    client = dev_env.client
    with webhook_receiver() as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url)
        ids = enqueue_now(sessions, [delay_risk(email=None) for _ in range(2)])
        # One row's delivery is terminated before any worker ran it; the other's never started
        # (its workflow failed first). Both sit pending, past the sweep's grace.
        handle = await client.start_workflow(
            DeliveryWorkflow.run, DeliveryInput(outbox_id=ids[0]),
            id=delivery_workflow_id(ids[0]), task_queue=task_queue)
        await handle.terminate("operator terminated it")
        with transaction(sessions) as session:
            session.execute(update(OutboxRow).where(OutboxRow.id.in_(ids)).values(
                created_at=datetime.now(UTC) - timedelta(minutes=10)))
            sub = subs_repo.get(session, sub_id)
            assert sub is not None
            subs_repo.change(session, sub, subs_repo.Changes(active=False), "test")

        async with running_worker(client, db_url, task_queue,
                                  settings_for(db_url, tmp_path, task_queue=task_queue)):
            try:
                await ensure_schedules(client, task_queue, "UTC")
                # The subscription is disabled: its rows are held, not swept.
                assert await sweep_by_schedule(client) == SweepResult(stranded=0, started=0)
                with transaction(sessions) as session:
                    sub = subs_repo.get(session, sub_id)
                    assert sub is not None
                    subs_repo.change(session, sub, subs_repo.Changes(active=True), "test")
                assert await sweep_by_schedule(client) == SweepResult(stranded=2, started=2)
                assert await await_deliveries(client, ids) == ["delivered", "delivered"]
                assert await sweep_by_schedule(client) == SweepResult(stranded=0, started=0)
            finally:
                for schedule_id in SCHEDULE_IDS:
                    await client.get_schedule_handle(schedule_id).delete()

    assert Counter(receiver.accepted) == Counter(ids)  # each once
    assert all(r.signature_ok for r in receiver.requests)
    assert [r.status for r in rows(sessions, ids)] == ["delivered", "delivered"]


# -- email ----------------------------------------------------------------------------------
# What is under test is SMTP; the outbox rows' SQL runs on both engines above: SQLite here.


@pytest.mark.one_engine
@pytest.mark.parametrize("locale, tls, subject, phrase", [
    ("zh-CN", "none", "您的订单 {} 可能延迟送达", "目前预计送达时间为 2026-12-04 09:00 UTC"),
    ("en", "starttls", "Your order {} may arrive late",
     "the latest estimate is 2026-12-04 09:00 UTC"),
    ("zh-CN", "ssl", "您的订单 {} 可能延迟送达", "目前预计送达时间为 2026-12-04 09:00 UTC"),
])
async def test_delay_risk_email_arrives_in_the_customers_language(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path, locale: str, tls: str, subject: str,
        phrase: str, caplog: pytest.LogCaptureFixture) -> None:
    """With STARTTLS the server also requires AUTH, so credentials from settings are checked."""
    caplog.set_level(logging.DEBUG)
    credentials = {"username": "waybill", "password": "s3cret-pw"} if tls == "starttls" else {}
    with smtp_server(tls=tls, **credentials) as (mailbox, port):
        settings = settings_for(db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                                smtp_tls=tls, smtp_from="Waybill <notify@waybill.test>",
                                smtp_ca_file=LOOPBACK_CERT,
                                smtp_username=credentials.get("username"),
                                smtp_password=credentials.get("password"))
        notice = delay_risk(locale=locale)
        ids = enqueue_now(sessions, [notice])
        async with notifier_worker(dev_env.client, db_url, task_queue, settings):
            assert await deliver_all(dev_env.client, task_queue, ids) == ["delivered"]
            assert await deliver_all(dev_env.client, task_queue, ids) == ["already_delivered"]

    assert len(mailbox.messages) == 1
    msg = mailbox.messages[0]
    assert mailbox.envelopes[0].rcpt_tos == ["buyer@example.com"]
    assert msg["Subject"] == subject.format(notice.order_id)
    # Long header values are folded onto a continuation line; unfolded, they are exact.
    assert msg["Content-Language"] == locale and msg["X-Waybill-Delivery"].strip() == ids[0]
    assert msg["Message-ID"].strip() == f"<{ids[0]}@waybill.test>"
    body = msg.get_content().replace("\r\n", "\n")
    assert phrase in body and "SF1234567890" in body
    assert mailbox.logins == ([credentials["username"]] if credentials else [])
    assert not any("s3cret-pw" in str(r.__dict__) for r in caplog.records)
    assert rows(sessions, ids)[0].status == OutboxStatus.DELIVERED


@pytest.mark.one_engine
async def test_email_whose_connection_broke_off_is_sent_again_with_the_same_message_id(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    """The server took the message but hung up before saying so: at least once, so it is
    sent again, and its Message-ID lets the mail system drop the copy."""
    with smtp_server() as (mailbox, port):
        mailbox.drop_after_data = 1
        settings = settings_for(db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                                smtp_tls="none", smtp_from="Waybill <notify@waybill.test>")
        ids = enqueue_now(sessions, [delay_risk()])
        async with notifier_worker(dev_env.client, db_url, task_queue, settings):
            assert await deliver_all(dev_env.client, task_queue, ids) == ["delivered"]
    assert [m["Message-ID"].strip() for m in mailbox.messages] == [f"<{ids[0]}@waybill.test>"] * 2
    [row] = rows(sessions, ids)
    assert row.status == OutboxStatus.DELIVERED and row.attempts == 2


@pytest.mark.one_engine
async def test_email_refused_by_the_server_fails_without_retrying(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    with smtp_server(refuse_rcpt="550 5.1.1 no such user") as (mailbox, port):
        settings = settings_for(db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                                smtp_tls="none")
        ids = enqueue_now(sessions, [delay_risk()])
        async with notifier_worker(dev_env.client, db_url, task_queue, settings):
            assert await deliver_all(dev_env.client, task_queue, ids) == ["failed"]
    assert mailbox.messages == []
    [row] = rows(sessions, ids)
    assert row.attempts == 1 and "550" in (row.last_error or "")


@pytest.mark.one_engine
async def test_email_to_an_unreachable_server_is_retried_then_failed(
        dev_env: WorkflowEnvironment, db_url: str, sessions: sessionmaker[Session],
        task_queue: str, tmp_path: Path) -> None:
    from tests.support.pg import free_port

    settings = settings_for(db_url, tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(),
                            smtp_tls="none", smtp_timeout_seconds=2)
    ids = enqueue_now(sessions, [delay_risk()])
    async with notifier_worker(dev_env.client, db_url, task_queue, settings):
        assert await deliver_all(dev_env.client, task_queue, ids, maximum_attempts=3) == [
            "failed"]
    [row] = rows(sessions, ids)
    assert row.attempts == 3 and row.status == OutboxStatus.FAILED
    assert "smtp connect" in (row.last_error or "")


# -- inbox ----------------------------------------------------------------------------------


def test_staff_notices_reach_each_teams_inbox_once_with_the_event_that_caused_them(
        sessions: sessionmaker[Session]) -> None:
    """The inbox is Waybill's own: its items are written in the causing event's transaction,
    exactly once, with no delivery of their own."""
    notice = level_changed("SO-77", ["operator", "supervisor"])
    assert enqueue_now(sessions, [notice]) == []  # nothing left to deliver
    assert enqueue_now(sessions, [notice]) == []  # a retried projection adds nothing
    with sessions() as session:
        items = list(session.scalars(select(InboxItem).order_by(InboxItem.team)))
        statuses = {r.status for r in session.scalars(select(OutboxRow))}
    assert statuses == {OutboxStatus.DELIVERED}
    assert [i.team for i in items] == ["operator", "supervisor"]
    assert items[0].title == "升级事项 SO-77:esc-1 现为第 2 级"
    assert items[0].escalation_id == "SO-77:esc-1" and items[0].order_id == "SO-77"
    assert "scan_gap" in items[0].body and items[0].read_at is None
