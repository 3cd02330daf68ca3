"""The console in real Chromium (Debian's /usr/bin/chromium, driven by playwright; nothing is
downloaded), against the real app served by uvicorn, a Temporal dev server and a worker."""

from __future__ import annotations

import playwright.async_api as playwright_api

from tests.support.api_harness import order_body
from tests.support.browser import Site, shot, signed_in


async def test_an_operator_watches_an_order_move_live_reads_it_and_switches_language(
        site: Site, browser) -> None:
    expect = playwright_api.expect
    context, page = await signed_in(browser, site, "operator")
    await expect(page.get_by_test_id("who")).to_contain_text("web-operator")
    await expect(page.get_by_test_id("zone")).to_contain_text("Asia/Shanghai")
    await page.evaluate("window.__sameDocument = true")

    body = order_body(tier="key_account")
    order_id = body["order_id"]
    assert (await site.post("/v1/orders", body)).status_code == 201
    card = page.locator(f'section[data-stage="received"] [data-order="{order_id}"]')
    await expect(card).to_be_visible(timeout=20_000)
    await expect(card).to_contain_text("Key account")
    await expect(card).to_contain_text("left")
    await site.event(order_id, "confirmed")
    moved = page.locator(f'section[data-stage="confirmed"] [data-order="{order_id}"]')
    await expect(moved).to_be_visible(timeout=20_000)
    await expect(card).to_have_count(0)
    assert await page.evaluate("window.__sameDocument === true"), "the board reloaded"
    # Issue 18 §4: no Temporal link on a card (the order page has it, for some roles).
    assert await moved.locator("a.wf-link").count() == 0
    await shot(page, "board-en-1280-live")

    # Keyboard: the first Tab reaches the skip link, and an order opens with Enter.
    await page.keyboard.press("Tab")
    await expect(page.locator(".skip")).to_be_focused()
    await moved.locator("a.order-link").focus()
    await page.keyboard.press("Enter")
    timeline = page.get_by_test_id("timeline")
    await expect(timeline).to_contain_text("Order created")
    await expect(timeline.locator('tr[data-type="confirmed"]')).to_contain_text("web-integration")
    await expect(page.get_by_test_id("order-stage")).to_have_text("Confirmed")
    await shot(page, "order-en-1280-live")

    # A post carrying the session cookie but not its form token is refused.
    forged = await context.request.post(f"{site.base}/console/orders/{order_id}/notes",
                                        form={"text": "forged"})
    # (it is in zh-CN: the request carries no Accept-Language and no language cookie)
    assert forged.status == 403 and 'data-state="csrf"' in await forged.text()

    await page.get_by_test_id("lang-zh-CN").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await expect(page.get_by_test_id("timeline")).to_contain_text("订单创建")
    await expect(page.get_by_role("heading", name="时间线")).to_be_visible()
    await expect(page.get_by_test_id("zone")).to_contain_text("时间按 Asia/Shanghai")
    await shot(page, "order-zh-CN-1280-switched")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{site.base}/console/board")
    await expect(page.get_by_role("heading", name="订单看板")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "board-zh-CN-390-switched")

    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_test_id("sign-in")).to_be_visible()
    await context.close()


async def test_an_auditor_sees_no_operator_action_and_cannot_post_one(site: Site,
                                                                      browser) -> None:
    body = order_body()
    assert (await site.post("/v1/orders", body)).status_code == 201
    context, page = await signed_in(browser, site, "auditor", width=390)
    await page.goto(f"{site.base}/console/orders/{body['order_id']}")
    await expect_visible(page.get_by_test_id("timeline"))
    assert await page.get_by_test_id("note-form").count() == 0
    token = await page.locator('form[action="/console/sign-out"] input[name="csrf"]').input_value()
    refused = await context.request.post(
        f"{site.base}/console/orders/{body['order_id']}/notes",
        form={"csrf": token, "text": "not mine to write"})
    assert refused.status == 403 and 'data-state="forbidden"' in await refused.text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "order-en-390-auditor")
    await context.close()


async def expect_visible(locator) -> None:
    await playwright_api.expect(locator).to_be_visible()
