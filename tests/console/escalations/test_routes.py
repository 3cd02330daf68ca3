"""The escalations queue in the console over HTTP: ordering, filters, the actions through forms
(the same workflow updates the API runs), refusals shown as words, and the auditor refused."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.api_harness import Api, order_body
from tests.support.builders import policy_yaml
from tests.support.console_harness import csrf_of, sign_in
from tests.support.escalations_harness import escalation_of
from tests.support.polling import eventually

# Level 1 waits 5 s for an acknowledgement: room for the test to acknowledge one in time and
# to watch another climb to level 2.
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


async def breached(api: Api, level: int = 1) -> dict[str, Any]:
    body = order_body()
    assert (await api.create(body)).status_code == 201
    return await escalation_of(api, body["order_id"], level=level)


def queue_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-escalation="([^"]+)"', html)


async def post(api: Api, esc_id: str, action: str, page_html: str,
               **fields: str) -> Any:
    return await api.http.post(f"/console/escalations/{esc_id}/{action}",
                               data={"csrf": csrf_of(page_html), **fields})


async def test_the_queue_puts_the_highest_level_first_and_filters(api: Api) -> None:
    older = await breached(api, level=2)  # climbed: nobody acknowledged level 1 in 5 s
    await sign_in(api.http, api.keys["operator"])
    newer = await breached(api)
    page = await api.http.get("/console/escalations")
    # Acknowledged at level 1 from the queue, so it stays there.
    acked = await post(api, newer["id"], "acknowledge", page.text, next="/console/escalations")
    assert acked.status_code == 303 and acked.headers["location"] == "/console/escalations"

    page = await api.http.get("/console/escalations")
    assert page.status_code == 200 and "Escalations queue" in page.text
    assert queue_ids(page.text) == [older["id"], newer["id"]]
    row = page.text[page.text.index(f'data-escalation="{newer["id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "test-operator at" in row and "Level 1" in row and "Ops desk" in row
    assert f'href="/console/orders/{newer["order_id"]}"' in row and "Confirm" in row
    assert 'aria-current="page">Escalations' in page.text

    moved = await post(api, older["id"], "reassign", page.text, assignee="desk-wu")
    assert moved.status_code == 303
    for params, expected in (({"level": "2"}, [older["id"]]), ({"level": "1"}, [newer["id"]]),
                             ({"assignee": "desk-wu"}, [older["id"]]),
                             ({"kind": "confirm_late"}, [older["id"], newer["id"]]),
                             ({"kind": "pick_late"}, []),
                             ({"stage": "received"}, [older["id"], newer["id"]]),
                             ({"stage": "picked"}, []), ({"state": "resolved"}, []),
                             ({"level": "nonsense", "kind": "??"}, [older["id"], newer["id"]])):
        got = await api.http.get("/console/escalations", params=params)
        assert got.status_code == 200 and queue_ids(got.text) == expected, params


async def test_an_operator_acknowledges_and_resolves_and_a_second_resolve_is_explained(
        api: Api) -> None:
    esc = await breached(api)
    await sign_in(api.http, api.keys["operator"])
    detail = await api.http.get(f"/console/escalations/{esc['id']}")
    assert detail.status_code == 200 and "Ladder steps" in detail.text
    assert (await post(api, esc["id"], "acknowledge", detail.text)).status_code == 303
    again = await post(api, esc["id"], "acknowledge", detail.text)
    assert again.status_code == 409 and "already acknowledged" in again.text

    no_text = await post(api, esc["id"], "resolve", detail.text, code="customer_informed",
                         text=" ")
    assert no_text.status_code == 422 and "Please say what was done" in no_text.text
    done = await post(api, esc["id"], "resolve", detail.text, code="customer_informed",
                      text="called the customer", next="/console/escalations?state=resolved")
    assert done.status_code == 303
    resolved = await api.http.get(done.headers["location"])
    assert queue_ids(resolved.text) == [esc["id"]]
    assert esc["id"] not in queue_ids((await api.http.get("/console/escalations")).text)

    view = (await api.get(f"/v1/escalations/{esc['id']}")).json()
    assert (view["state"], view["resolution_code"], view["resolution"], view["resolved_by"]) == (
        "resolved", "customer_informed", "called the customer", "test-operator")
    assert [h["action"] for h in view["history"]][-2:] == ["acknowledged", "resolved"]
    detail = await api.http.get(f"/console/escalations/{esc['id']}")
    assert "Customer informed: called the customer (by test-operator" in detail.text
    assert 'data-action="resolved"' in detail.text

    twice = await post(api, esc["id"], "resolve", detail.text, code="other", text="again")
    assert twice.status_code == 409
    assert "This escalation is already resolved; nothing was changed." in twice.text

    await sign_in(api.http, api.keys["operator"], lang="zh-CN")
    zh = await api.http.get(f"/console/escalations/{esc['id']}")
    assert "升级步骤" in zh.text and "已通知客户" in zh.text


async def test_an_auditor_reads_the_queue_but_cannot_act(api: Api) -> None:
    esc = await breached(api)
    await sign_in(api.http, api.keys["auditor"])
    page = await api.http.get("/console/escalations")
    assert queue_ids(page.text) == [esc["id"]] and 'data-testid="esc-ack"' not in page.text
    detail = await api.http.get(f"/console/escalations/{esc['id']}")
    assert 'data-testid="esc-actions"' not in detail.text
    for action, fields in (("acknowledge", {}), ("resolve", {"code": "other", "text": "x"})):
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


async def test_a_snooze_is_read_in_the_viewers_zone_and_held_to_the_policy(api: Api) -> None:
    esc = await breached(api)
    await sign_in(api.http, api.keys["supervisor"])
    page = await api.http.get("/console/escalations")
    shanghai = ZoneInfo("Asia/Shanghai")  # the console's default zone

    def local(delta: timedelta) -> str:
        return (datetime.now(shanghai) + delta).strftime("%Y-%m-%dT%H:%M")

    too_long = await post(api, esc["id"], "snooze", page.text, until=local(timedelta(hours=3)))
    assert too_long.status_code == 422 and "longer than the policy allows" in too_long.text
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
    queue = await api.http.get("/console/escalations")
    assert until.replace("T", " ") in queue.text
