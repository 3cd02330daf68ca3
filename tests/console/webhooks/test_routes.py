"""The console's webhook pages over HTTP, as an admin uses them: the subscriptions with their
failure state, a subscription's delivery log (never what the receiver answered), the
redeliver and re-enable buttons (CSRF-checked), in both languages; other roles are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from db.engine import make_engine, session_factory, transaction
from db.notifications import subscriptions as subs_repo
from db.notifications.models import OutboxRow, WebhookSubscription
from tests.support.api_harness import Api
from tests.support.console_harness import csrf_of, sign_in
from tests.support.subscriptions_harness import new_subscription, seed_deliveries

PAGE = "/console/webhooks"


# The subscriptions' and deliveries' queries run on both engines in tests/api/notifications/:
# the pages on SQLite.
pytestmark = pytest.mark.one_engine


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"worker": False}


def disable_after_failures(api: Api, sub_id: str) -> None:
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        for _ in range(2):
            subs_repo.record_failure(session, sub_id, "webhook answered 503",
                                     datetime.now(UTC), delivery_failed=True, max_failures=2)
    engine.dispose()


def in_db(api: Api, sub_id: str) -> tuple[WebhookSubscription, list[OutboxRow]]:
    engine = make_engine(api.settings.db_url)
    with session_factory(engine)() as session:
        sub = session.get(WebhookSubscription, sub_id)
        rows = list(session.query(OutboxRow).filter(OutboxRow.recipient == sub_id))
    engine.dispose()
    assert sub is not None
    return sub, rows


async def test_an_admin_reads_the_log_redelivers_and_re_enables(api: Api) -> None:
    sub = await new_subscription(api)
    delivered, failed, pending = seed_deliveries(api, sub["id"],
                                                 ["delivered", "failed", "pending"])
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:  # written before bodies were dropped
        session.execute(update(OutboxRow).where(OutboxRow.id == failed).values(
            last_error="webhook answered 500: password=hunter2", last_http_status=500,
            attempts=34))
    engine.dispose()
    http = api.http
    assert (await sign_in(http, api.keys["admin"])).status_code == 303

    listing = await http.get(PAGE)
    assert listing.status_code == 200 and 'href="/console/webhooks"' in listing.text
    assert sub["id"] in listing.text and sub["url"] in listing.text

    detail = await http.get(f"{PAGE}/{sub['id']}")
    assert detail.status_code == 200
    assert detail.text.count('data-testid="webhook-redeliver"') == 2  # delivered and failed
    assert f'data-delivery="{pending}" data-status="pending"' in detail.text
    assert "webhook answered 500" in detail.text and "hunter2" not in detail.text
    only_failed = await http.get(f"{PAGE}/{sub['id']}", params={"status": "failed"})
    assert failed in only_failed.text and delivered not in only_failed.text

    action = f"{PAGE}/{sub['id']}/deliveries/{failed}/redeliver"
    forged = await http.post(action, data={"csrf": "0" * 32})
    assert forged.status_code == 403
    assert {r.id: r.status for r in in_db(api, sub["id"])[1]}[failed] == "failed"
    done = await http.post(action, data={"csrf": csrf_of(detail.text)})
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}/{sub['id']}?done=redelivered"
    statuses = {r.id: r.status for r in in_db(api, sub["id"])[1]}
    assert statuses[failed] == "pending"
    described = await api.temporal.get_workflow_handle(f"delivery-{failed}").describe()
    assert described.workflow_type == "DeliveryWorkflow"
    after = await http.get(done.headers["location"])
    assert "the same webhook-id" in after.text

    # A message an attempt is sending has no button; posting anyway tells why on the page.
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        session.execute(update(OutboxRow).where(OutboxRow.id == pending).values(
            status="sending"))
    engine.dispose()
    busy = await http.post(f"{PAGE}/{sub['id']}/deliveries/{pending}/redeliver",
                           data={"csrf": csrf_of(detail.text)})
    assert busy.status_code == 409 and "sending this message right now" in busy.text

    disable_after_failures(api, sub["id"])
    disabled = await http.get(f"{PAGE}/{sub['id']}")
    assert 'data-testid="webhook-enable"' in disabled.text
    assert 'data-testid="webhook-redeliver"' not in disabled.text
    refused = await http.post(f"{PAGE}/{sub['id']}/deliveries/{delivered}/redeliver",
                              data={"csrf": csrf_of(disabled.text)})
    assert refused.status_code == 409 and "Re-enable the subscription first" in refused.text
    enabled = await http.post(f"{PAGE}/{sub['id']}/enable",
                              data={"csrf": csrf_of(disabled.text)})
    assert enabled.status_code == 303
    row = in_db(api, sub["id"])[0]
    assert row.active and row.consecutive_failures == 0

    missing = await http.get(f"{PAGE}/sub_nope")
    assert missing.status_code == 404 and "Subscription not found" in missing.text


async def test_the_pages_speak_chinese_and_are_for_admins_only(api: Api) -> None:
    sub = await new_subscription(api)
    http = api.http
    await sign_in(http, api.keys["admin"], lang="zh-CN")
    page = await http.get(f"{PAGE}/{sub['id']}")
    assert page.status_code == 200 and "投递记录" in page.text and "没有投递记录。" in page.text
    for role in ("operator", "supervisor", "auditor"):
        await sign_in(http, api.keys[role])
        board = await http.get("/console/board")
        assert 'href="/console/webhooks"' not in board.text
        for path in (PAGE, f"{PAGE}/{sub['id']}"):
            assert (await http.get(path)).status_code == 403, (role, path)
        post = await http.post(f"{PAGE}/{sub['id']}/enable", data={"csrf": "0" * 32})
        assert post.status_code == 403
    http.cookies.clear()
    anonymous = await http.get(PAGE)
    assert anonymous.status_code == 303 and "/console/sign-in" in anonymous.headers["location"]
