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

from tests.support.api_harness import Api, error_code
from tests.support.console_harness import sign_in
from tests.support.story_harness import NOTE, RESOLUTION, STORY_KINDS, STORY_LADDER, told_order


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": STORY_LADDER}


async def test_the_whole_story_of_an_escalated_claimed_and_complained_order(api: Api) -> None:
    order_id, esc_id = await told_order(api)
    path = f"/v1/orders/{order_id}/timeline"
    timeline = (await api.get(path, role="auditor")).json()
    items = timeline["items"]
    assert set(timeline["kinds"]) == STORY_KINDS and timeline["truncated"] is False

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
                      ("acknowledged", 2, "test-supervisor"), ("waived", 2, "test-admin"),
                      ("resolved", 2, "waybill")]
    notified = next(i for i in items if i["type"] == "notified" and i["data"]["level"] == 2)
    assert notified["data"]["recipients"] == ["supervisor"]
    resolved = next(i for i in items if i["kind"] == "escalation" and i["type"] == "waived")
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
            for kind in STORY_KINDS:
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
