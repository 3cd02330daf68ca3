"""The escalations queue in real Chromium: a seconds-scale breach opens an escalation, which an
operator acknowledges and resolves from the queue (harness: tests/support/browser.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import playwright.async_api as playwright_api
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.api_harness import order_body
from tests.support.browser import Site, served, shot, signed_in
from tests.support.builders import policy_yaml

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
    await expect(row).to_contain_text("Ops desk")  # the team in words (issue 18 §6)
    await expect(row.get_by_test_id("esc-ack-cell")).to_contain_text("Not acknowledged")
    await shot(page, "escalations-en-1280-breach")

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
    await shot(page, "escalation-en-1280-resolved")

    await page.get_by_test_id("lang-zh-CN").click()
    await expect(page.get_by_role("heading", name="升级步骤")).to_be_visible()
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{site.base}/console/escalations?state=resolved")
    await expect(page.get_by_role("heading", name="升级队列")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "escalations-zh-CN-390-resolved")
    await context.close()


async def breach(site: Site) -> str:
    body = order_body()
    assert (await site.post("/v1/orders", body)).status_code == 201
    return body["order_id"]


async def test_the_open_queue_shows_a_new_escalation_without_reloading_or_losing_typing(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    context, page = await signed_in(browser, site, "operator")
    await page.goto(f"{site.base}/console/escalations?state=open&stage=received")
    await expect(page.get_by_test_id("esc-empty")).to_be_visible()
    resolved = await context.new_page()  # the same queue filtered to resolved ones
    await resolved.goto(f"{site.base}/console/escalations?state=resolved")
    await page.evaluate("window.__sameDocument = true")

    first = await breach(site)
    row = page.locator("tr[data-escalation]", has=page.get_by_role("link", name=first))
    await expect(row).to_contain_text("Not acknowledged", timeout=30_000)
    await expect(page.get_by_test_id("esc-count")).to_have_text("1 escalations")
    assert await page.evaluate("window.__sameDocument === true"), "the queue reloaded"
    # The poll kept the page's filters: the resolved view stays empty.
    await expect(resolved.get_by_test_id("esc-empty")).to_be_visible()
    assert "state=resolved" in await resolved.locator("[data-live]").get_attribute("data-src")

    # Half-way through resolving the first one, a second breach arrives: the queue waits.
    await row.get_by_test_id("esc-more").click()
    await row.get_by_label("What was done").fill("called the warehouse")
    second = await breach(site)
    await escalation_opened(site, second)
    await page.wait_for_timeout(7_000)  # two polls and more
    second_row = page.locator("tr[data-escalation]", has=page.get_by_role("link", name=second))
    await expect(second_row).to_have_count(0)
    await expect(row.get_by_label("What was done")).to_have_value("called the warehouse")
    await expect(row.get_by_label("What was done")).to_be_focused()
    await expect(page.locator("[data-live-paused]")).to_be_visible()

    # Done with the form (text cleared, panel closed): the queue catches up on its own.
    await row.get_by_label("What was done").fill("")
    await row.get_by_test_id("esc-more").click()
    await expect(second_row).to_be_visible(timeout=15_000)
    await expect(page.locator("[data-live-paused]")).to_be_hidden()
    await expect(page.get_by_test_id("esc-count")).to_have_text("2 escalations")
    assert await page.evaluate("window.__sameDocument === true"), "the queue reloaded"
    await context.close()


async def escalation_opened(site: Site, order_id: str) -> None:
    for _ in range(120):
        got = await site.http.get("/v1/escalations", params={"order_id": order_id},
                                  headers={"Authorization": f"Bearer {site.keys['admin']}"})
        if got.json()["items"]:
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"no escalation for {order_id}")
