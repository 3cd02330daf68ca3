"""The escalations triage queue in real Chromium (issue 18 §2, §3, §5, §7): seconds-scale
breaches open escalations, which an operator works from the queue by keyboard, in both
languages, at 1280 and 390 px; the queue stays live (harness: tests/support/browser.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the console's default zone
QUEUE_URL = re.compile(r"/console/escalations(\?[^/]*)?$")

FITS = """() => { const t = document.querySelector('[data-testid=esc-queue]');
  return [t.scrollWidth, t.parentElement.clientWidth]; }"""
ONE_LINE_DATES = """() => Array.from(document.querySelectorAll('td.when')).every(td => {
  const r = document.createRange(); r.selectNodeContents(td);
  return r.getClientRects().length === 1; })"""


@pytest.fixture
async def site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    path = tmp_path / "ladder.yaml"
    path.write_text(LADDER)
    async with served(dev_env, sqlite_url, task_queue, tmp_path, sla_policies=path) as s:
        yield s


async def fits(page) -> None:
    table, box = await page.evaluate(FITS)
    assert table <= box, f"the queue is {table} px wide in a {box} px box"
    assert await page.evaluate(ONE_LINE_DATES), "a date wraps"


async def test_an_operator_triages_the_queue_by_keyboard_in_both_languages(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    key_account = order_body(tier="key_account")
    standard = order_body()
    for body in (key_account, standard):
        assert (await site.post("/v1/orders", body)).status_code == 201
    for body in (key_account, standard):  # not confirmed within 2 s: each opens an escalation
        await escalation_opened(site, body["order_id"])
    context, page = await signed_in(browser, site, "operator")

    await page.get_by_role("link", name="Escalations").click()
    rows = page.locator("tr[data-escalation]")
    await expect(rows).to_have_count(2)
    await fits(page)
    ka = rows.filter(has=page.get_by_role("link", name=key_account["order_id"]))
    await expect(ka).to_contain_text("Sanghong Apparel")
    await expect(ka.get_by_test_id("esc-key-account")).to_have_text("Key account")
    await expect(ka.get_by_test_id("esc-step")).to_contain_text("Confirm the order")
    await expect(ka.get_by_test_id("esc-next")).to_contain_text("→ level 2 (Supervisors) in")
    await expect(ka).to_contain_text("Told: Ops desk")
    await shot(page, "escalations-en-1280-queue")

    # Acknowledged by keyboard: focus moves on to the next row, not back to the top.
    first, second = rows.nth(0), rows.nth(1)
    first_id = await first.get_attribute("data-escalation")
    second_id = await second.get_attribute("data-escalation")
    await first.get_by_test_id("esc-ack").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("done")).to_have_text(
        "Acknowledged: this level's clock restarts from now.")
    second = page.locator(f'tr[data-escalation="{second_id}"]')
    first = page.locator(f'tr[data-escalation="{first_id}"]')
    await expect(second.get_by_test_id("esc-ack")).to_be_focused()
    acked = first.get_by_test_id("esc-ack")
    await expect(acked).to_be_disabled()
    look = await acked.evaluate("b => [getComputedStyle(b).opacity, getComputedStyle(b).cursor]")
    assert float(look[0]) < 1 and look[1] == "not-allowed", look

    # The step's own action is one click away; resolving while it is not done is a waiver.
    order_of_second = (key_account if second_id.startswith(f"esc-{key_account['order_id']}")
                       else standard)["order_id"]
    await expect(second.get_by_test_id("esc-do-step")).to_have_attribute(
        "href", f"/console/orders/{order_of_second}")
    await second.get_by_test_id("esc-more").click()
    await second.get_by_label("What was done").fill("called the customer")
    await second.get_by_test_id("esc-resolve").click()
    alert = page.get_by_test_id("esc-error")
    await expect(alert).to_contain_text("The step “Confirm the order” is still not done.")
    await expect(page).to_have_url(QUEUE_URL)  # the queue's address, not the POST's
    await expect(second.get_by_label("What was done")).to_have_value("called the customer")
    await second.get_by_test_id("esc-waive").check()
    await second.get_by_label("Why it is waived").fill("customer confirms tomorrow")
    await second.get_by_test_id("esc-resolve").click()
    await expect(page.get_by_test_id("done")).to_contain_text("Resolved with a waiver")
    await expect(second).to_have_count(0)

    # A snooze past the policy's limit is refused on the queue, naming the limit.
    too_late = (datetime.now(SHANGHAI) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    await first.get_by_test_id("esc-more").click()
    await first.get_by_label("Snooze until").fill(too_late)
    await first.get_by_test_id("esc-snooze").click()
    await expect(alert).to_contain_text("longer than the policy allows: at most")
    await expect(page).to_have_url(QUEUE_URL)
    await expect(first.get_by_label("Snooze until")).to_have_value(too_late)
    await shot(page, "escalations-en-1280-snooze-refused")

    await page.get_by_test_id("esc-view-resolved").click()
    waived = page.locator(f'tr[data-escalation="{second_id}"]')
    await expect(waived.get_by_test_id("esc-resolution")).to_contain_text(
        "Waived while the step is not done: customer confirms tomorrow")
    await expect(waived.get_by_test_id("esc-resolved-by")).to_have_text("web-operator")
    await expect(waived).not_to_contain_text("Not acknowledged")
    await fits(page)
    await waived.get_by_role("link", name="Details").click()
    await expect(page.get_by_test_id("esc-ladder").locator('tr[data-action="waived"]')
                 ).to_contain_text("although the step “Confirm the order” was not done (waived)")
    await expect(page.get_by_test_id("esc-step-call")).to_contain_text("Do it: Confirm the order")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1280
    await shot(page, "escalation-en-1280-waived")
    await page.go_back()

    await page.get_by_test_id("lang-zh-CN").click()
    await expect(page.get_by_role("link", name="升级处理", exact=True)).to_be_visible()
    await page.goto(f"{site.base}/console/escalations")
    await expect(page.get_by_role("heading", name="升级处理队列")).to_be_visible()
    await expect(first.get_by_test_id("esc-step")).to_contain_text("确认订单")
    await expect(first).to_contain_text("已通知：运营值班台")
    await fits(page)
    await shot(page, "escalations-zh-CN-1280-queue")

    for lang, heading in (("zh-CN", "升级处理队列"), ("en", "Escalations queue")):
        if lang == "en":
            await page.get_by_test_id("lang-en").click()
        await page.set_viewport_size({"width": 390, "height": 844})
        for state in ("open", "resolved"):
            await page.goto(f"{site.base}/console/escalations?state={state}")
            await expect(page.get_by_role("heading", name=heading)).to_be_visible()
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390
            await shot(page, f"escalations-{lang}-390-{state}")
        await page.set_viewport_size({"width": 1280, "height": 900})
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
    await expect(second_row).to_have_attribute("data-new", "1")  # arrived after the page
    await expect(second_row).to_contain_text("New")
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
