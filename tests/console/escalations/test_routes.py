"""The escalations triage queue in the console over HTTP: urgency order, rows in words, views,
assignees from known people and teams, the actions through forms (the same workflow updates
the API runs), resolving as an explicit waiver, success and refusals on the page they came
from, bulk acknowledge, and the auditor refused."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.support.api_harness import Api, order_body
from tests.support.builders import policy_yaml
from tests.support.console_harness import csrf_of, sign_in
from tests.support.escalations_harness import escalation_of
from tests.support.polling import eventually

# Level 1 waits 5 s for an acknowledgement: room for the test to acknowledge one in time and
# to watch another climb to level 2, the top of this two-level ladder.
LADDER = policy_yaml(confirm_within="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT5S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""


# The queue's queries run on both engines in tests/api/escalations/: the pages on SQLite.
pytestmark = pytest.mark.one_engine


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": LADDER}


async def breached(api: Api, level: int = 1, tier: str = "standard") -> dict[str, Any]:
    body = order_body(tier=tier)
    assert (await api.create(body)).status_code == 201
    return await escalation_of(api, body["order_id"], level=level)


def queue_ids(html: str) -> list[str]:
    return re.findall(r'<tr id="[^"]*" data-escalation="([^"]+)"', html)


def row_of(html: str, esc_id: str) -> str:
    row = html[html.index(f'data-escalation="{esc_id}"'):]
    return row[:row.index("</tr>")]


async def post(api: Api, esc_id: str, action: str, page_html: str,
               **fields: str) -> Any:
    return await api.http.post(f"/console/escalations/{esc_id}/{action}",
                               data={"csrf": csrf_of(page_html), **fields})


async def test_the_queue_orders_by_urgency_says_what_happens_next_and_has_views(
        api: Api) -> None:
    older = await breached(api, level=2)  # climbed: nobody acknowledged level 1 in 5 s
    await sign_in(api.http, api.keys["operator"])
    newer = await breached(api, tier="key_account")
    page = await api.http.get("/console/escalations")
    acked = await post(api, newer["id"], "acknowledge", page.text, next="/console/escalations")
    assert acked.status_code == 303
    location = urlsplit(acked.headers["location"])
    assert location.path == "/console/escalations"
    assert parse_qs(location.query)["done"] == ["acknowledge"]

    page = await api.http.get(acked.headers["location"])
    assert page.status_code == 200 and "Escalations queue" in page.text
    assert 'data-testid="done"' in page.text
    assert "Acknowledged: this level&#39;s clock restarts from now." in page.text
    ids = queue_ids(page.text)
    # Both are due in about an hour: level 2 (the top) tells again first, then level 1 climbs.
    assert ids.index(older["id"]) < ids.index(newer["id"])
    row = row_of(page.text, newer["id"])
    assert "Sanghong Apparel" in row and 'data-testid="esc-key-account"' in row
    assert "Confirm the order" in row and "Level 1" in row and "test-operator at" in row
    assert "→ level 2 (Supervisors) in 59m" in row or "→ level 2 (Supervisors) in 1h" in row
    assert f'href="/console/orders/{newer["order_id"]}"' in row
    assert ">ops_desk<" not in row and "Told: Ops desk" in row
    assert re.search(r'data-testid="esc-ack" disabled aria-disabled="true"', row)
    top = row_of(page.text, older["id"])
    assert "Top level: Supervisors told again in" in top
    assert 'aria-current="page">Escalations' in page.text
    # Levels as the policies define them (this stack's ladder has 2), not 1-9.
    assert ">Level 2</option>" in page.text and ">Level 3</option>" not in page.text

    unknown = await post(api, older["id"], "reassign", page.text, assignee="desk-wu",
                         next="/console/escalations")
    assert unknown.status_code == 422 and 'role="alert"' in unknown.text
    assert "Choose the new assignee from the list" in unknown.text
    assert 'data-testid="esc-queue"' in unknown.text  # it stays on the queue
    assert '<option value="test-supervisor">' in page.text and ">Ops desk</option>" in page.text
    moved = await post(api, older["id"], "reassign", page.text, assignee="test-operator",
                       next="/console/escalations")
    assert moved.status_code == 303
    after = await api.http.get(moved.headers["location"])
    assert "The ladder still climbs on time unless someone acknowledges it." in after.text
    assert "Reassigning does not stop the climb" in after.text
    for params, present, absent in (
            ({"view": "mine"}, [older["id"]], [newer["id"]]),
            ({"view": "unassigned"}, [newer["id"]], [older["id"]]),
            ({"view": "team"}, [older["id"]], [newer["id"]]),
            ({"assignee": "test-operator"}, [older["id"]], [newer["id"]]),
            ({"level": "2"}, [older["id"]], [newer["id"]]),
            ({"state": "resolved"}, [], [older["id"], newer["id"]]),
            ({"level": "nonsense", "kind": "??"}, [older["id"], newer["id"]], [])):
        got = await api.http.get("/console/escalations", params=params)
        ids = queue_ids(got.text)
        assert got.status_code == 200 and all(i in ids for i in present), params
        assert not any(i in ids for i in absent), params


async def test_acknowledging_from_the_queue_puts_focus_on_the_next_row(api: Api) -> None:
    first, second = await breached(api), await breached(api)
    await sign_in(api.http, api.keys["operator"])
    page = await api.http.get("/console/escalations")
    ids = queue_ids(page.text)
    acting = ids[0]
    done = await post(api, acting, "acknowledge", page.text, next="/console/escalations")
    focus = parse_qs(urlsplit(done.headers["location"]).query)["focus"][0]
    assert focus == ids[1] and done.headers["location"].endswith(f"#esc-{focus}")
    after = await api.http.get(done.headers["location"])
    assert re.search(r'data-testid="esc-ack"[^>]*autofocus', row_of(after.text, focus))
    assert {first["id"], second["id"]} <= set(ids)


async def test_bulk_acknowledge_counts_what_it_did(api: Api) -> None:
    one, two = await breached(api), await breached(api)
    await sign_in(api.http, api.keys["supervisor"])
    page = await api.http.get("/console/escalations")
    none = await api.http.post("/console/escalations/acknowledge-selected",
                               data={"csrf": csrf_of(page.text), "next": "/console/escalations"})
    assert none.status_code == 422 and "Tick at least one row" in none.text
    done = await api.http.post("/console/escalations/acknowledge-selected", data={
        "csrf": csrf_of(page.text), "next": "/console/escalations",
        f"pick:{one['id']}": "yes", f"pick:{two['id']}": "yes"})
    assert done.status_code == 303
    after = await api.http.get(done.headers["location"])
    assert "2 escalations acknowledged." in after.text
    for esc in (one, two):
        view = (await api.get(f"/v1/escalations/{esc['id']}")).json()
        assert view["acknowledged_by"] == "test-supervisor"


async def test_resolving_an_escalation_whose_step_is_not_done_is_an_explicit_waiver(
        api: Api) -> None:
    esc = await breached(api)
    await sign_in(api.http, api.keys["operator"])
    detail = await api.http.get(f"/console/escalations/{esc['id']}")
    assert detail.status_code == 200 and "Ladder steps" in detail.text
    assert "This escalation ends when its step is done: Confirm the order." in detail.text
    assert f'href="/console/orders/{esc["order_id"]}">Do it: Confirm the order →' in detail.text
    assert (await post(api, esc["id"], "acknowledge", detail.text)).status_code == 303
    again = await post(api, esc["id"], "acknowledge", detail.text)
    assert again.status_code == 409 and "already acknowledged" in again.text

    no_text = await post(api, esc["id"], "resolve", detail.text, code="customer_informed",
                         text=" ")
    assert no_text.status_code == 422 and "Please say what was done" in no_text.text
    holds = await post(api, esc["id"], "resolve", detail.text, code="customer_informed",
                       text="called the customer")
    assert holds.status_code == 409 and 'role="alert"' in holds.text
    assert "The step “Confirm the order” is still not done." in holds.text
    assert ">called the customer</textarea>" in holds.text  # what was typed is kept
    no_reason = await post(api, esc["id"], "resolve", detail.text, code="customer_informed",
                           text="called the customer", waive="yes")
    assert no_reason.status_code == 422 and "A waiver needs a reason" in no_reason.text
    done = await post(api, esc["id"], "resolve", detail.text, code="customer_informed",
                      text="called the customer", waive="yes",
                      reason="customer confirms by phone tomorrow",
                      next="/console/escalations?state=resolved")
    assert done.status_code == 303
    resolved = await api.http.get(done.headers["location"])
    assert "Resolved with a waiver" in resolved.text
    row = row_of(resolved.text, esc["id"])
    assert "Waived while the step is not done: customer confirms by phone tomorrow" in row
    assert "Re-opens in" in row and "test-operator" in row
    assert "Not acknowledged" not in row
    assert esc["id"] not in queue_ids((await api.http.get("/console/escalations")).text)

    view = (await api.get(f"/v1/escalations/{esc['id']}")).json()
    assert (view["state"], view["resolution_code"], view["resolution"], view["resolved_by"]) == (
        "resolved", "customer_informed", "called the customer", "test-operator")
    assert [h["action"] for h in view["history"]][-2:] == ["acknowledged", "waived"]
    detail = await api.http.get(f"/console/escalations/{esc['id']}")
    assert "Customer informed: called the customer (by test-operator" in detail.text
    assert 'data-action="waived"' in detail.text
    assert "although the step “Confirm the order” was not done (waived)" in detail.text

    twice = await post(api, esc["id"], "resolve", detail.text, code="other", text="again",
                       waive="yes", reason="x")
    assert twice.status_code == 409
    assert "This escalation is already resolved; nothing was changed." in twice.text

    await sign_in(api.http, api.keys["operator"], lang="zh-CN")
    zh = await api.http.get(f"/console/escalations/{esc['id']}")
    assert "升级步骤" in zh.text and "已通知客户" in zh.text and "已豁免" in zh.text
    assert "确认订单" in zh.text and ">升级处理<" in zh.text


async def test_an_auditor_reads_the_queue_but_cannot_act(api: Api) -> None:
    esc = await breached(api)
    await sign_in(api.http, api.keys["auditor"])
    page = await api.http.get("/console/escalations")
    assert esc["id"] in queue_ids(page.text) and 'data-testid="esc-ack"' not in page.text
    assert 'data-testid="esc-bulk"' not in page.text
    detail = await api.http.get(f"/console/escalations/{esc['id']}")
    assert 'data-testid="esc-actions"' not in detail.text
    for action, fields in (("acknowledge", {}), ("resolve", {"code": "other", "text": "x",
                                                             "waive": "yes", "reason": "x"})):
        refused = await post(api, esc["id"], action, page.text, **fields)
        assert refused.status_code == 403 and "Not allowed" in refused.text

    async def still_open() -> dict[str, Any] | None:
        view = (await api.get(f"/v1/escalations/{esc['id']}")).json()
        return view if view["acknowledged_at"] is None else None
    assert (await still_open())["state"] == "open"

    await sign_in(api.http, api.keys["operator"])
    page = await api.http.get("/console/escalations")
    forged = await api.http.post(f"/console/escalations/{esc['id']}/acknowledge",
                                 data={"csrf": "0" * 32})
    assert forged.status_code == 403 and "Form expired" in forged.text
    assert (await api.http.get("/console/escalations/esc-nope")).status_code == 404
    await eventually(still_open)


async def test_a_snooze_is_read_in_the_viewers_zone_and_its_refusal_names_the_limit(
        api: Api) -> None:
    esc = await breached(api)
    await sign_in(api.http, api.keys["supervisor"])
    page = await api.http.get("/console/escalations")
    shanghai = ZoneInfo("Asia/Shanghai")  # the console's default zone

    def local(delta: timedelta) -> str:
        return (datetime.now(shanghai) + delta).strftime("%Y-%m-%dT%H:%M")

    too_long = await post(api, esc["id"], "snooze", page.text, until=local(timedelta(hours=3)),
                          next="/console/escalations")
    assert too_long.status_code == 422 and 'role="alert"' in too_long.text
    assert re.search(r"longer than the policy allows: at most (59m|1h 0m), until \d{4}-",
                     too_long.text)
    assert 'data-testid="esc-queue"' in too_long.text  # still on the queue, the form open
    assert f'value="{local(timedelta(hours=3))}"' in too_long.text
    past = await post(api, esc["id"], "snooze", page.text, until=local(-timedelta(hours=1)))
    assert past.status_code == 422 and "must be in the future" in past.text
    garbled = await post(api, esc["id"], "snooze", page.text, until="soon")
    assert garbled.status_code == 422 and "valid snooze time" in garbled.text

    until = local(timedelta(minutes=30))
    ok = await post(api, esc["id"], "snooze", page.text, until=until,
                    next="/console/escalations")
    assert ok.status_code == 303
    view = (await api.get(f"/v1/escalations/{esc['id']}")).json()
    assert datetime.fromisoformat(view["snoozed_until"]).astimezone(shanghai).strftime(
        "%Y-%m-%dT%H:%M") == until
    queue = await api.http.get(ok.headers["location"])
    assert "Snoozed: the ladder waits until then" in queue.text
    assert "Snoozed: the clock restarts in" in row_of(queue.text, esc["id"])
