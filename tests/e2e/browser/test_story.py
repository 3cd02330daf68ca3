"""An order's whole story in real Chromium, in both languages: an auditor reads an order that
was escalated, claimed and complained about as sentences with seconds, opens an entry's full
data, and filters by kind; the order page shows the same story (harness:
tests/support/browser.py)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import playwright.async_api as playwright_api
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.api_harness import order_body
from tests.support.browser import SHOTS, Site, served, shot, signed_in
from tests.support.builders import policy_yaml

LADDER = policy_yaml(confirm_within="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1H, resolve_within: PT1H}
"""
RESOLUTION = "已致电客户说明延误原因，客户同意改约次日上午送达。" * 6  # > 160 characters
KINDS = ("order", "escalation", "claim", "complaint", "notification")
CLOCK = r"\d{2}:\d{2}:\d{2}"


@pytest.fixture
async def site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    path = tmp_path / "ladder.yaml"
    path.write_text(LADDER)
    async with served(dev_env, sqlite_url, task_queue, tmp_path, sla_policies=path) as s:
        yield s


async def _ok(site: Site, path: str, body: dict[str, Any], role: str) -> dict[str, Any]:
    resp = await site.post(path, body, role=role)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def _escalation(site: Site, order_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {site.keys['operator']}"}
    for _ in range(60):  # not confirmed within 1 s: the breach opens an escalation
        items = (await site.http.get("/v1/escalations", params={"order_id": order_id},
                                     headers=headers)).json()["items"]
        if items:
            return items[0]
        await asyncio.sleep(0.5)
    raise AssertionError("no escalation opened")


async def _told_order(site: Site) -> str:
    body = order_body()
    order_id = body["order_id"]
    await _ok(site, "/v1/orders", body, "operator")
    esc = await _escalation(site, order_id)
    await _ok(site, f"/v1/escalations/{esc['id']}/acknowledge", {}, "supervisor")
    await _ok(site, f"/v1/escalations/{esc['id']}/resolve",
              {"code": "customer_informed", "text": RESOLUTION, "waive": True,
               "reason": "客户已同意取消"}, "admin")
    await _ok(site, f"/v1/orders/{order_id}/events", {
        "event_id": f"ev-{uuid.uuid4().hex[:8]}", "type": "cancelled",
        "occurred_at": datetime.now(UTC).isoformat(), "data": {"reason": "客户撤单"}},
        "operator")
    await _ok(site, f"/v1/orders/{order_id}/claims",
              {"cause": "damaged", "description": "外箱压坏"}, "operator")
    await _ok(site, "/v1/complaints", {"complaint_id": f"CP-{order_id}", "order_id": order_id,
                                       "category": "delay", "description": "两天没有消息。"},
              "operator")
    return order_id


async def test_an_auditor_reads_the_whole_story_in_both_languages(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    order_id = await _told_order(site)
    for locale, acked, resolved in (
            ("en-US", rf"web-supervisor acknowledged escalation L1 at {CLOCK}",
             rf"web-admin resolved escalation L1 as “Customer informed” at {CLOCK}"),
            ("zh-CN", rf"web-supervisor 于 {CLOCK} 确认了 L1 级升级",
             rf"web-admin 于 {CLOCK} 以“已通知客户”处理了 L1 级升级")):
        context, page = await signed_in(browser, site, "auditor", locale=locale)
        await page.goto(f"{site.base}/console/audit/orders/{order_id}")
        story = page.get_by_test_id("audit-timeline")
        # The projections are written by activities: reload until every kind is there.
        for _ in range(60):
            kinds = await story.locator("tbody tr").evaluate_all(
                "rows => [...new Set(rows.map(r => r.dataset.kind))]")
            if set(kinds) == set(KINDS):
                break
            await page.wait_for_timeout(250)
            await page.reload()
        assert set(kinds) == set(KINDS), kinds
        ladder = story.locator('tr[data-kind="escalation"]')
        await expect(ladder.filter(has_text=re.compile(acked))).to_have_count(1)
        done = ladder.filter(has_text=re.compile(resolved))
        await expect(done).to_have_count(1)
        await expect(done.locator("blockquote").first).to_have_text(RESOLUTION)  # whole
        await expect(done.locator("time").first).to_have_text(
            re.compile(rf"^\d{{4}}-\d{{2}}-\d{{2}} {CLOCK}$"))
        # no raw JSON in the default view; the full data one click away
        pre = done.locator("details pre")
        await expect(pre).to_be_hidden()
        await done.locator("details summary").click()
        await expect(pre).to_be_visible()
        await expect(pre).to_contain_text('"code": "customer_informed"')
        assert "\\u" not in await page.content()
        await shot(page, f"story-{locale}-1280-auditor")
        await story.screenshot(path=str(SHOTS / f"story-{locale}-1280-table.png"))

        # only the claim's and the complaint's entries
        form = page.get_by_test_id("audit-timeline-filter")
        for kind in ("order", "escalation", "notification"):
            await form.locator(f'input[value="{kind}"]').uncheck()
        await form.get_by_role("button").click()
        shown = await page.get_by_test_id("audit-timeline").locator("tbody tr").evaluate_all(
            "rows => [...new Set(rows.map(r => r.dataset.kind))]")
        assert set(shown) == {"claim", "complaint"}, shown

        await page.goto(f"{site.base}/console/orders/{order_id}")
        on_order = page.get_by_test_id("timeline")
        await expect(on_order.locator('tr[data-kind="escalation"]').filter(
            has_text=re.compile(resolved))).to_have_count(1)
        await expect(on_order.locator('tr[data-kind="notification"]').first).to_be_visible()
        await context.close()
