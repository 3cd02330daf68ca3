"""The escalations queue in real Chromium: a seconds-scale breach opens an escalation, which an
operator acknowledges and resolves from the queue (harness: tests/test_console_browser.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.api_harness import order_body
from tests.builders import policy_yaml
from tests.test_console_browser import (  # noqa: F401 - browser is a fixture
    Site,
    browser,
    playwright_api,
    served,
    shot,
    signed_in,
)

LADDER = policy_yaml(confirm_within="PT2S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1H, resolve_within: PT1H}
"""


@pytest.fixture
async def site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    path = tmp_path / "ladder.yaml"
    path.write_text(LADDER)
    async with served(dev_env, sqlite_url, task_queue, tmp_path, sla_policies=path) as s:
        yield s


async def test_an_operator_acknowledges_and_resolves_a_breach_from_the_queue(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    body = order_body()
    order_id = body["order_id"]
    assert (await site.post("/v1/orders", body)).status_code == 201
    context, page = await signed_in(browser, site, "operator")

    await page.get_by_role("link", name="Escalations").click()
    row = page.locator("tr[data-escalation]", has=page.get_by_role("link", name=order_id))
    for _ in range(60):  # not confirmed within 2 s: the breach opens an escalation
        if await row.count():
            break
        await asyncio.sleep(0.5)
        await page.reload()
    await expect(row).to_contain_text("Level 1")
    await expect(row).to_contain_text("ops_desk")
    await expect(row.get_by_test_id("esc-ack-cell")).to_contain_text("Not acknowledged")
    await shot(page, "escalations-en-1280")

    await row.get_by_test_id("esc-ack").click()
    await expect(row.get_by_test_id("esc-ack-cell")).to_contain_text("web-operator at")
    await expect(row.get_by_test_id("esc-ack")).to_be_disabled()

    await row.get_by_test_id("esc-more").click()
    await row.get_by_label("Resolution code").select_option("customer_informed")
    await row.get_by_label("What was done").fill("called the customer, ships today")
    await row.get_by_test_id("esc-resolve").click()
    await expect(page.get_by_test_id("esc-count")).to_be_visible()
    await expect(row).to_have_count(0)  # the queue shows open ones by default

    await page.get_by_label("State").select_option("resolved")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(row).to_be_visible()
    await row.get_by_role("link", name="Details").click()
    await expect(page.get_by_test_id("esc-resolution")).to_contain_text(
        "Customer informed: called the customer, ships today (by web-operator")
    ladder = page.get_by_test_id("esc-ladder")
    await expect(ladder.locator('tr[data-action="acknowledged"]')).to_contain_text("web-operator")
    await expect(ladder.locator('tr[data-action="resolved"]')).to_contain_text("web-operator")
    await shot(page, "escalation-en-1280")

    await page.get_by_test_id("lang-zh-CN").click()
    await expect(page.get_by_role("heading", name="升级步骤")).to_be_visible()
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{site.base}/console/escalations?state=resolved")
    await expect(page.get_by_role("heading", name="升级队列")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "escalations-zh-390")
    await context.close()
