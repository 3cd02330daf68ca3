"""One order's whole story over HTTP, and on the console in both languages: an order that was
escalated (the ladder climbed, a supervisor acknowledged, an admin resolved it), cancelled,
claimed and complained about reads as one timeline of every kind, filterable by kind."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

import pytest

from tests.support.api_harness import Api, error_code, order_body
from tests.support.builders import policy_yaml
from tests.support.claims_harness import claim_of, open_claim
from tests.support.complaints_harness import open_complaint
from tests.support.console_harness import sign_in
from tests.support.escalations_harness import escalation_of
from tests.support.polling import eventually

LADDER = policy_yaml(confirm_within="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""
# Longer than the 160 characters the timeline used to cut at, and not ASCII.
RESOLUTION = "已致电客户说明延误原因，客户同意改约次日上午送达；" * 8
NOTE = "仓库今日人手不足，已告知客户稍后回电。"
KINDS = {"order", "escalation", "claim", "complaint", "notification"}


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": LADDER}


async def _act(api: Api, esc_id: str, action: str, body: dict[str, Any], role: str) -> None:
    resp = await api.http.post(f"/v1/escalations/{esc_id}/{action}", json=body,
                               headers=api.auth(role))
    assert resp.status_code == 200, resp.text


async def _told_order(api: Api) -> tuple[str, str]:
    """An order escalated to level 2 and resolved, noted, cancelled, claimed, complained."""
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    esc = await escalation_of(api, order_id, level=2)
    # the supervisors' team reads the level-2 notice in its in-app inbox
    async def level_2_notice() -> dict[str, Any] | None:
        inbox = (await api.get("/v1/inbox", role="supervisor")).json()["items"]
        return next((i for i in inbox if i["escalation_id"] == esc["id"]), None)
    notice = await eventually(level_2_notice)
    read = await api.http.post(f"/v1/inbox/{notice['id']}/read", headers=api.auth("supervisor"))
    assert read.status_code == 200, read.text
    await _act(api, esc["id"], "acknowledge", {"comment": "我来处理"}, "supervisor")
    await _act(api, esc["id"], "resolve", {"code": "customer_informed", "text": RESOLUTION},
               "admin")
    assert (await api.event(order_id, "note", {"text": NOTE})).status_code == 200
    assert (await api.event(order_id, "cancelled", {"reason": "客户撤单"})).status_code == 200
    claim = await open_claim(api, order_id)
    assert claim.status_code == 201, claim.text
    await claim_of(api, claim.json()["claim_id"])
    complaint = await open_complaint(api, {"complaint_id": f"CP-{order_id}",
                                           "order_id": order_id, "category": "delay",
                                           "description": "两天没有消息。"})
    assert complaint.status_code == 201, complaint.text

    async def whole() -> list[dict[str, Any]] | None:
        items = (await api.get(f"/v1/orders/{order_id}/timeline", role="auditor")).json()
        items = items["items"]
        resolved = [i for i in items if i["kind"] == "escalation" and i["type"] == "resolved"]
        return items if {i["kind"] for i in items} == KINDS and resolved else None
    await eventually(whole, timeout=30)
    return order_id, esc["id"]


async def test_the_whole_story_of_an_escalated_claimed_and_complained_order(api: Api) -> None:
    order_id, esc_id = await _told_order(api)
    path = f"/v1/orders/{order_id}/timeline"
    timeline = (await api.get(path, role="auditor")).json()
    items = timeline["items"]
    assert set(timeline["kinds"]) == KINDS and timeline["truncated"] is False

    # event-time order, ties by record time
    keys = [(datetime.fromisoformat(i["occurred_at"]), datetime.fromisoformat(i["recorded_at"]))
            for i in items]
    assert keys == sorted(keys)
    assert items[0]["kind"] == "order" and items[0]["type"] == "order_created"
    assert len({i["event_id"] for i in items}) == len(items)

    ladder = [(i["type"], i["data"]["level"], i["actor"]) for i in items
              if i["kind"] == "escalation"]
    assert ladder == [("opened", 1, "waybill"), ("notified", 1, "waybill"),
                      ("climbed", 2, "waybill"), ("notified", 2, "waybill"),
                      ("acknowledged", 2, "test-supervisor"), ("resolved", 2, "test-admin")]
    notified = next(i for i in items if i["type"] == "notified" and i["data"]["level"] == 2)
    assert notified["data"]["recipients"] == ["supervisor"]
    resolved = next(i for i in items if i["kind"] == "escalation" and i["type"] == "resolved")
    assert resolved["data"]["code"] == "customer_informed"
    assert resolved["data"]["text"] == RESOLUTION and resolved["subject_id"] == esc_id
    assert {i["type"] for i in items if i["kind"] == "claim"} >= {"opened"}
    assert {i["type"] for i in items if i["kind"] == "complaint"} >= {"opened"}
    for sent in (i for i in items if i["kind"] == "notification"):
        assert {"channel", "recipient", "status", "attempts"} <= sent["data"].keys()
        assert not {"body", "payload", "last_error"} & sent["data"].keys()
    told = next(i for i in items if i["kind"] == "notification"
                and i["data"]["channel"] == "inbox" and i["data"]["recipient"] == "supervisor")
    assert told["data"]["read_by"] == "test-supervisor" and told["data"]["read_at"]
    # the operator's actions, with who and how
    note = next(i for i in items if i["type"] == "note")
    assert (note["actor"], note["data"]["text"]) == ("test-operator", NOTE)

    # the kind filter: repeated or comma-separated; unknown kinds refused with a code
    two = (await api.get(path, role="auditor", kind="escalation,claim")).json()
    assert {i["kind"] for i in two["items"]} == {"escalation", "claim"}
    assert two["kinds"] == ["escalation", "claim"]
    repeated = (await api.get(path, kind=["complaint", "notification"])).json()
    assert {i["kind"] for i in repeated["items"]} == {"complaint", "notification"}
    order_only = (await api.get(path, kind="order")).json()["items"]
    assert order_only == [i for i in items if i["kind"] == "order"]
    bad = await api.get(path, kind="order,gossip")
    assert bad.status_code == 422 and error_code(bad) == "unknown_timeline_kind"
    assert bad.json()["error"]["details"]["kinds"] == ["gossip"]
    cut = (await api.get(path, limit=3)).json()
    assert cut["truncated"] is True and cut["items"] == items[:3]

    # the console, in both languages: sentences, seconds, whole text, no escapes
    http = api.http
    clock = r"\d{2}:\d{2}:\d{2}"
    for lang, acked in (("en", rf"test-supervisor acknowledged escalation L2 at {clock}"),
                        ("zh-CN", rf"test-supervisor 于 {clock} 确认了 L2 级升级")):
        await sign_in(http, api.keys["auditor"], lang=lang)
        for page_path, testid in ((f"/console/audit/orders/{order_id}", "audit-timeline"),
                                  (f"/console/orders/{order_id}", "timeline")):
            page = await http.get(page_path)
            assert page.status_code == 200, page.text
            html = page.text
            assert f'data-testid="{testid}"' in html
            assert re.search(acked, html), (lang, page_path)
            read_by = {"en": "Read by test-supervisor at ", "zh-CN": "test-supervisor 于 "}
            assert read_by[lang] in html
            assert RESOLUTION in html and NOTE in html
            assert "\\u" not in html and "<details>" in html
            for kind in KINDS:
                assert f'data-kind="{kind}"' in html, (lang, page_path, kind)
            assert re.search(rf'<time>\d{{4}}-\d{{2}}-\d{{2}} {clock}</time>', html)
            only = (await http.get(page_path, params={"kind": "claim"})).text
            assert set(re.findall(r'data-kind="(\w+)"', only)) == {"claim"}
    zh = (await http.get(f"/console/audit/orders/{order_id}")).text
    assert "客户撤单" in zh and "于" in zh

    # the audit CSV starts with a byte order mark and holds the same story
    raw = (await http.get(f"/console/audit/orders/{order_id}/timeline.csv")).content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["kind"], r["event_id"]) for r in rows] == [(i["kind"], i["event_id"])
                                                          for i in items]
