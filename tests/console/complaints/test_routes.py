"""The console's complaints pages over HTTP: the queue with its filters, and one complaint
worked from routing to closed through its forms, refusals kept on the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.api_harness import Api, created
from tests.support.complaints_harness import open_complaint
from tests.support.console_harness import csrf_of, sign_in
from tests.support.polling import eventually

pytestmark = pytest.mark.one_engine


async def act(http: httpx.AsyncClient, complaint_id: str, action: str,
              **fields: str) -> httpx.Response:
    page = await http.get(f"/console/complaints/{complaint_id}")
    action_id = re.search(r'name="action_id" value="([^"]+)"', page.text).group(1)
    return await http.post(f"/console/complaints/{complaint_id}/events/{action}", data={
        "csrf": csrf_of(page.text), "action_id": action_id, **fields})


async def test_a_complaint_routed_answered_resolved_and_closed_in_the_console(api: Api) -> None:
    order_id = await created(api, tier="key_account")
    resp = await open_complaint(api, {"order_id": order_id, "category": "delay",
                                      "description": "two days late, nobody told us"})
    assert resp.status_code == 201, resp.text
    complaint_id = resp.json()["id"]
    http = api.http
    await sign_in(http, api.keys["operator"])

    queue = await http.get("/console/complaints?tier=key_account&state=open")
    assert f'href="/console/complaints/{complaint_id}"' in queue.text
    assert "Route to a department" in queue.text and "Key account" in queue.text
    assert complaint_id not in (await http.get("/console/complaints?state=closed")).text
    order = await http.get(f"/console/orders/{order_id}")
    assert f'href="/console/complaints/{complaint_id}"' in order.text

    done = await act(http, complaint_id, "routed", department="transport")
    assert done.status_code == 303
    page = await http.get(done.headers["location"])
    assert "The complaint is routed." in page.text and "Next: Reply to the customer" in page.text
    assert complaint_id in (await http.get("/console/complaints?assignee=transport")).text

    again = await act(http, complaint_id, "routed", department="transport")
    assert again.status_code == 409 and "It is already routed to Transport." in again.text
    back = await http.get(f"/console/complaints/{complaint_id}/events/routed")
    assert back.status_code == 303
    assert back.headers["location"] == f"/console/complaints/{complaint_id}"

    # A promise in the past is refused on the page, what was typed kept.
    zone = ZoneInfo("Asia/Shanghai")  # the console's default zone
    past = (datetime.now(UTC) - timedelta(hours=1)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    reply = {"text": "The truck broke down near Suzhou.", "plan": "Refund the freight.",
             "channel": "phone"}
    late = await act(http, complaint_id, "first_reply", promised_by=past, **reply)
    assert late.status_code == 422 and "The promised time must be in the future." in late.text
    assert "The truck broke down near Suzhou." in late.text
    empty = await act(http, complaint_id, "first_reply", promised_by="", **reply)
    assert empty.status_code == 422 and "Solved by (promised)" in empty.text
    soon = (datetime.now(UTC) + timedelta(days=1)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    assert (await act(http, complaint_id, "first_reply", promised_by=soon, **reply)
            ).status_code == 303

    await sign_in(http, api.keys["operator"], lang="zh-CN")
    done = await act(http, complaint_id, "resolved", text="Freight refunded.")
    assert done.status_code == 303
    page = await http.get(done.headers["location"])
    assert "投诉已解决。" in page.text and "下一步：记录客户满意度" in page.text
    bad = await act(http, complaint_id, "satisfaction", score="9")
    assert bad.status_code == 422 and "客户满意度" in bad.text
    done = await act(http, complaint_id, "satisfaction", score="4", comment="Quick and fair.")
    assert done.status_code == 303

    async def closed() -> dict | None:
        view = (await api.get(f"/v1/complaints/{complaint_id}")).json()
        return view if view["step"] == "closed" else None
    view = await eventually(closed)
    assert view["department"] == "transport" and view["satisfaction"]["score"] == 4
    routed = next(e for e in view["timeline"] if e["type"] == "routed")
    assert routed["actor"] == "test-operator" and routed["source"] == "console"
    page = await http.get(f"/console/complaints/{complaint_id}")
    assert "已关闭" in page.text and 'data-testid="satisfaction-form"' not in page.text
