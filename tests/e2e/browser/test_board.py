"""The board for now and the live, explicit order page (issue 18 §4, §5) in real Chromium, both
languages, at 1280 and 390 px: every active column fits, overdue first, closed/cancelled as
counts, the filters, cards with their open work; the order page noticing a change, actions
ending in a focused success message, a refused upload staying on the order, the Temporal
link only for the roles that may see it, the new-order form's past-promise warning. One served
app for the module (harness: tests/support/browser.py); screenshots under
.data/screenshots/console/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import playwright.async_api as playwright_api
import pytest
from temporalio.testing import WorkflowEnvironment

from console.board.view import ACTIVE_STAGES
from db.migrate import upgrade
from tests.support.api_harness import order_body
from tests.support.browser import Site, served, shot, signed_in
from tests.support.browser_orders import events, fast_policies, first_item
from tests.support.builders import FULL_PICK, POD, SHIP

expect = playwright_api.expect


@dataclass
class World:
    site: Site
    late: str  # missed its confirmation: overdue now, escalated
    fresh: str  # just received, with time left
    damaged: str  # delivered damaged: an open claim
    cancelled: str


@pytest.fixture(scope="module")
async def world(dev_env: WorkflowEnvironment,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp = tmp_path_factory.mktemp("board")
    url = f"sqlite:///{tmp / 'waybill.db'}"
    upgrade(url)
    async with served(dev_env, url, f"tq-board-{tmp.name}", tmp,
                      sla_policies=fast_policies(tmp / "policies.yaml")) as site:
        late = order_body(tier="key_account", sla_policy="fast")
        fresh, damaged, cancelled = order_body(), order_body(), order_body()
        for body in (late, fresh, damaged, cancelled):
            assert (await site.post("/v1/orders", body)).status_code == 201
        await events(site, damaged["order_id"], ("confirmed", {}), ("picked", FULL_PICK),
                     ("shipped", SHIP), ("delivered", {**POD, "condition": "damaged"}))
        await events(site, cancelled["order_id"], ("cancelled", {"reason": "customer withdrew"}),
                     role="operator")
        await first_item(site, "/v1/escalations", late["order_id"])
        await first_item(site, "/v1/claims", damaged["order_id"])
        yield World(site=site, late=late["order_id"], fresh=fresh["order_id"],
                    damaged=damaged["order_id"], cancelled=cancelled["order_id"])


def card(page, order_id: str):
    return page.locator(f'#board [data-order="{order_id}"]')


async def test_the_board_at_a_desk_shows_what_needs_someone_now(world: World, browser) -> None:
    context, page = await signed_in(browser, world.site, "operator")
    late = card(page, world.late)
    await expect(late.get_by_test_id("badge-escalation")).to_be_visible(timeout=20_000)
    await expect(card(page, world.damaged).get_by_test_id("badge-claim")).to_be_visible(
        timeout=20_000)
    # Every active stage, and only those, fits the 1280 px window.
    stages = await page.locator("#board section.column").evaluate_all(
        "els => els.map(e => [e.dataset.stage, e.getBoundingClientRect().right])")
    assert [s for s, _ in stages] == list(ACTIVE_STAGES)
    assert all(right <= 1280 for _, right in stages), stages
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1280
    # Overdue first, said in words; the open escalation's level and the open claim link on.
    received = page.locator('section[data-stage="received"] li.card')
    await expect(received.first).to_have_attribute("data-order", world.late)
    await expect(late.get_by_test_id("badge-overdue")).to_have_text("Overdue")
    await expect(late.get_by_test_id("badge-escalation")).to_have_text(
        re.compile(r"^Escalation level [1-9]$"))  # the fast ladder climbs as we look
    claim = card(page, world.damaged).get_by_test_id("badge-claim")
    assert (await claim.get_attribute("href")).startswith(f"/console/claims/{world.damaged}-CL")
    assert await page.locator("#board a.wf-link").count() == 0
    assert await card(page, world.cancelled).count() == 0
    await shot(page, "board-en-1280-for-now")

    # "Overdue now" leaves the order with time to spare.
    await page.get_by_label("Overdue now").check()
    await page.get_by_role("button", name="Apply filters").click()
    await expect(card(page, world.late)).to_be_visible()
    await expect(card(page, world.fresh)).to_have_count(0)
    await shot(page, "board-en-1280-overdue-now")

    # The cancelled order is a count that links to its list.
    await page.goto(f"{world.site.base}/console/board")
    await page.get_by_test_id("done-cancelled").click()
    await expect(page.locator(f'[data-order="{world.cancelled}"]')).to_be_visible()
    await expect(page.get_by_role("heading", name="Orders: Cancelled")).to_be_visible()
    await context.close()


async def test_the_board_on_a_phone_in_chinese(world: World, browser) -> None:
    context, page = await signed_in(browser, world.site, "operator", locale="zh-CN", width=390)
    await expect(card(page, world.late).get_by_test_id("badge-overdue")).to_have_text("已超时",
                                                                                     timeout=20_000)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "board-zh-CN-390-for-now")
    await page.get_by_label("有未结的理赔或投诉").check()
    await page.get_by_role("button", name="筛选").click()
    await expect(card(page, world.damaged).get_by_test_id("badge-claim")).to_have_text(
        "理赔处理中")
    await expect(card(page, world.fresh)).to_have_count(0)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "board-zh-CN-390-open-cases")
    await context.close()


async def test_the_order_page_says_it_changed_and_who_sees_temporal(world: World,
                                                                    browser) -> None:
    site = world.site
    context, page = await signed_in(browser, site, "supervisor")
    body = order_body()
    assert (await site.post("/v1/orders", body)).status_code == 201
    await page.goto(f"{site.base}/console/orders/{body['order_id']}")
    await expect(page.get_by_test_id("next-deadline")).to_be_visible(timeout=20_000)
    link = page.get_by_test_id("temporal-link")
    assert (await link.get_attribute("href")).endswith(f"/workflows/order-{body['order_id']}")
    await events(site, body["order_id"], ("confirmed", {}))
    live = page.get_by_test_id("order-live")
    await expect(live).to_have_attribute("role", "status")
    await expect(live.get_by_test_id("order-changed")).to_have_text(
        "This order has changed since the page was opened.", timeout=20_000)
    await shot(page, "order-en-1280-changed")
    await live.get_by_test_id("order-reload").click()
    await expect(page.get_by_test_id("order-stage")).to_have_text("Confirmed")
    await context.close()

    context, page = await signed_in(browser, site, "operator", locale="zh-CN", width=390)
    await page.goto(f"{site.base}/console/orders/{body['order_id']}")
    await expect(page.get_by_test_id("order-stage")).to_have_text("已确认")
    assert await page.get_by_test_id("temporal-link").count() == 0
    await context.close()


async def test_actions_end_in_words_and_refusals_stay_on_the_order(world: World,
                                                                   browser) -> None:
    site = world.site
    body = order_body()
    assert (await site.post("/v1/orders", body)).status_code == 201
    context, page = await signed_in(browser, site, "operator", locale="zh-CN", width=390)
    await page.goto(f"{site.base}/console/orders/{body['order_id']}")
    await page.get_by_test_id("confirm").click()
    done = page.get_by_test_id("done")
    await expect(done).to_have_text("订单已确认。下一步：仓库拣货。")
    await expect(done).to_be_focused()
    assert "done=" not in page.url  # a reload does not say it again
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "order-zh-CN-390-done")

    # A refused receipt upload: the order page again, the refusal at the upload form.
    await page.goto(f"{site.base}/console/orders/{world.damaged}")
    form = page.get_by_test_id("receipt-form")
    await form.locator('input[type="file"]').set_input_files(
        {"name": "r.txt", "mimeType": "text/plain", "buffer": b"hello"})
    await page.get_by_test_id("upload-receipt").click()
    refusal = form.get_by_test_id("action-error")
    await expect(refusal).to_contain_text("PDF")
    await expect(refusal).to_be_focused()
    await expect(page.get_by_test_id("lines")).to_be_visible()
    await shot(page, "order-zh-CN-390-receipt-refused")
    await context.close()

    context, page = await signed_in(browser, site, "operator", width=1280)
    await page.goto(f"{site.base}/console/orders/{world.damaged}")
    await page.get_by_test_id("receipt-form").locator('input[type="file"]').set_input_files(
        {"name": "r.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"})
    await page.get_by_test_id("upload-receipt").click()
    await expect(page.get_by_test_id("done")).to_contain_text("Receipt uploaded")
    await expect(page.get_by_test_id("done")).to_be_focused()
    await shot(page, "order-en-1280-receipt-done")
    await context.close()


async def test_a_past_promise_is_asked_about_and_errors_are_linked(world: World,
                                                                   browser) -> None:
    site = world.site
    for locale, width in (("en-US", 1280), ("zh-CN", 390)):
        context, page = await signed_in(browser, site, "operator", locale=locale, width=width)
        await page.goto(f"{site.base}/console/orders/new")
        await page.get_by_test_id("new-submit").click()
        summary = page.get_by_test_id("new-errors")
        await expect(summary).to_be_focused()
        first = summary.locator("a").first
        target = (await first.get_attribute("href")).lstrip("#")
        await first.click()
        await expect(page.locator(f"#{target}")).to_be_focused()
        assert await page.evaluate("document.documentElement.scrollWidth") <= width
        await shot(page, f"new-order-{locale[:2]}-{width}-errors")

        order_id = f"SO-PAST-{width}"
        for name, value in (("f-order_id", order_id), ("f-customer_id", "C-9"),
                            ("f-customer_name", "Acme"), ("f-line_sku_0", "SKU-1"),
                            ("f-line_qty_0", "2"), ("f-dest_address", "1 Road"),
                            ("f-dest_city", "Shanghai"), ("f-ship_by", "2020-01-01T10:00"),
                            ("f-delivery_by", "2030-01-02T10:00")):
            await page.locator(f"#{name}").fill(value)
        await page.get_by_test_id("new-submit").click()
        warning = page.get_by_test_id("past-warning")
        await expect(warning).to_be_focused()
        await shot(page, f"new-order-{locale[:2]}-{width}-past")
        await page.locator("#f-past_ok").check()
        await page.get_by_test_id("new-submit").click()
        await expect(page.get_by_test_id("done")).to_be_focused()
        await expect(page.get_by_role("heading", level=1)).to_contain_text(order_id)
        await context.close()
