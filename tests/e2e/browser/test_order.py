"""The order page in real Chromium (harness: tests/support/browser.py): an auditor
reads an order, is offered no cancel button, and a cancel posted with their session is refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import playwright.async_api as playwright_api

from tests.support.api_harness import order_body
from tests.support.browser import Site, shot, signed_in
from tests.support.builders import FULL_PICK, POD, SHIP


async def test_an_auditor_gets_no_cancel_button_and_a_forged_cancel_is_refused(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    body = order_body()
    order_id = body["order_id"]
    assert (await site.post("/v1/orders", body)).status_code == 201
    context, page = await signed_in(browser, site, "auditor")
    await page.goto(f"{site.base}/console/orders/{order_id}")
    await expect(page.get_by_test_id("lines")).to_contain_text("SKU-1")
    await expect(page.get_by_role("heading", name="Proof of delivery")).to_be_visible()
    assert await page.get_by_test_id("cancel").count() == 0
    assert await page.get_by_test_id("cancel-form").count() == 0
    assert await page.get_by_role("button", name="Cancel the order").count() == 0
    await shot(page, "order-en-1280-auditor-actions")

    # The auditor's own session and a valid form token: still refused, and nothing changes.
    token = await page.locator('form[action="/console/sign-out"] input[name="csrf"]').input_value()
    refused = await context.request.post(f"{site.base}/console/orders/{order_id}/cancel",
                                         form={"csrf": token, "reason": "forged"})
    assert refused.status == 403 and 'data-state="forbidden"' in await refused.text()
    view = await site.http.get(f"/v1/orders/{order_id}",
                               headers={"Authorization": f"Bearer {site.keys['auditor']}"})
    assert view.json()["stage"] == "received" and view.json()["cancel_reason"] is None

    # An operator on the same order does get the button.
    operator, op_page = await signed_in(browser, site, "operator")
    await op_page.goto(f"{site.base}/console/orders/{order_id}")
    await expect(op_page.get_by_test_id("cancel")).to_be_visible()
    await operator.close()
    await context.close()


async def test_a_delivered_order_with_its_receipt_fits_a_phone(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    body = order_body()
    order_id = body["order_id"]
    assert (await site.post("/v1/orders", body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivered", POD)):
        resp = await site.post(f"/v1/orders/{order_id}/events", {
            "event_id": f"ev-{type_}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
        assert resp.status_code == 200, resp.text
    pdf = b"%PDF-1.4\n% receipt\n%%EOF\n"
    uploaded = await site.http.post(
        f"/v1/orders/{order_id}/receipt", files={"file": ("r.pdf", pdf, "application/pdf")},
        headers={"Authorization": f"Bearer {site.keys['operator']}"})
    assert uploaded.status_code == 201, uploaded.text
    context, page = await signed_in(browser, site, "operator", locale="zh-CN", width=390)
    await page.goto(f"{site.base}/console/orders/{order_id}")
    await expect(page.get_by_test_id("receipts")).to_contain_text(hashlib.sha256(pdf).hexdigest())
    await expect(page.get_by_test_id("pod")).to_contain_text("完好")
    await expect(page.get_by_test_id("call-form")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shot(page, "order-zh-390-delivered")
    await context.close()
