"""Claims and complaints worked entirely in the console, in real Chromium (issue 18 §1, §7;
harness: tests/support/browser.py): a damaged delivery's claim from the order page to its
payout (English, 1280 px; a supervisor approves more than the standard), and a low follow-up
score's complaint from the call that raised it to closed (zh-CN, 390 px). Each page of both is
then read in the other language and width: no code shown raw, no sideways scrolling, and every
action ends with its success sentence focused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import playwright.async_api as playwright_api

from tests.support.api_harness import order_body
from tests.support.browser import Site, shot, signed_in
from tests.support.builders import FULL_PICK, POD, SHIP

PDF = b"%PDF-1.4\n% accident report\n%%EOF\n"
# Codes that must never reach the reader of these pages (their words do).
RAW = re.compile(r"\b(customer_contacted|evidence_collected|liability_decided|compensation_set|"
                 r"payout_issued|key_account|low_survey_score|first_reply|customer_service|"
                 r"force_majeure|accident_report|delivery_note|claim_step_late|in_person)\b")


async def delivered(site: Site, condition: str = "intact", **extra) -> str:
    body = order_body(**extra)
    order_id = body["order_id"]
    assert (await site.post("/v1/orders", body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivered", {**POD, "condition": condition})):
        resp = await site.post(f"/v1/orders/{order_id}/events", {
            "event_id": f"ev-{type_}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
        assert resp.status_code == 200, resp.text
    return order_id


async def done_and_focused(page, text: str) -> None:
    expect = playwright_api.expect
    await expect(page.get_by_test_id("done")).to_contain_text(text)
    await expect(page.get_by_test_id("done")).to_be_focused()


# Every field has a label and every button a name (as tests/e2e/browser/test_pages.py holds
# the other pages to).
UNNAMED_JS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => el.tagName === 'BUTTON' ? !el.textContent.trim()
          : !(el.labels && [...el.labels].some(l => l.textContent.trim())))
  .map(el => el.outerHTML.slice(0, 120))"""


async def readable(page, width: int) -> None:
    """No code shown raw, every field labelled, and the main content fits the width."""
    shown = await page.locator("main").inner_text()
    assert not RAW.search(shown), RAW.search(shown)
    assert "索赔" not in shown  # one term for claims: 理赔
    assert await page.evaluate(UNNAMED_JS) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= width


async def test_a_damaged_delivery_claim_is_worked_to_its_payout_in_the_console(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    order_id = await delivered(site, "damaged", weight_kg=20)
    context, page = await signed_in(browser, site, "operator")
    await page.goto(f"{site.base}/console/orders/{order_id}")
    link = page.get_by_test_id("claim-link")
    for _ in range(40):  # the claim's read model trails the delivery a little
        if await link.count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Claim")
    await expect(page.get_by_test_id("summary")).to_contain_text("Next step: Contact the customer")

    form = page.get_by_test_id("customer_contacted-form")
    await form.get_by_label("How the customer was reached").select_option("phone")
    await form.get_by_label("Note (optional)").fill("Apologised; asked for the papers.")
    await form.get_by_test_id("customer_contacted").click()
    await done_and_focused(page, "The customer contact is recorded.")
    await expect(page.get_by_test_id("missing")).to_contain_text("Accident report, Delivery note")

    # A refused upload stays on the claim's page, its error at the top of the upload form.
    upload = page.get_by_test_id("upload-form")
    await upload.get_by_label("File (PDF, JPEG or PNG)").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"})
    await upload.get_by_test_id("upload").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("Not a PDF, JPEG or PNG")
    await expect(page.get_by_test_id("form-error")).to_be_focused()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Claim")
    for kind, name, data in (("accident_report", "report.pdf", PDF),
                             ("delivery_note", "note.pdf", PDF + b"note")):
        upload = page.get_by_test_id("upload-form")
        await upload.get_by_label("Document kind").select_option(kind)
        await upload.get_by_label("File (PDF, JPEG or PNG)").set_input_files(
            {"name": name, "mimeType": "application/pdf", "buffer": data})
        await upload.get_by_test_id("upload").click()
        await done_and_focused(page, "The document is on file.")
    await expect(page.get_by_test_id("documents")).to_contain_text(
        "report.pdf")
    await expect(page.get_by_test_id("done")).to_contain_text("Next: Decide liability")

    form = page.get_by_test_id("liability_decided-form")
    await form.get_by_label("Liable party").select_option("carrier")
    await form.get_by_test_id("liability_decided").click()
    await done_and_focused(page, "Liability is recorded.")
    await expect(page.get_by_test_id("standard")).to_contain_text("400.00 CNY")
    assert await page.get_by_test_id("override-reason").count() == 0  # not an operator's
    form = page.get_by_test_id("compensation_set-form")
    await form.get_by_label("Compensation (CNY)").fill("450")
    await form.get_by_test_id("compensation_set").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("above the standard")
    await expect(page.get_by_test_id("compensation_set-form").get_by_label(
        "Compensation (CNY)")).to_have_value("450")
    await shot(page, "claim-en-1280-above-standard")
    await readable(page, 1280)
    claim_url = re.sub(r"/events/.*$", "", page.url)
    # The open claim's forms on a phone, in zh-CN.
    phone, zh = await signed_in(browser, site, "operator", locale="zh-CN", width=390)
    await zh.goto(claim_url)
    await expect(zh.get_by_test_id("summary")).to_contain_text("下一步：确定赔偿金额")
    await expect(zh.get_by_test_id("standard")).to_contain_text("按重量")
    await readable(zh, 390)
    await shot(zh, "claim-zh-390-compensation")
    await phone.close()

    # The supervisor approves more than the standard, with a reason, and pays out.
    supervisor, sup = await signed_in(browser, site, "supervisor")
    await sup.goto(claim_url)
    form = sup.get_by_test_id("compensation_set-form")
    await form.get_by_label("Compensation (CNY)").fill("450")
    await form.get_by_label("Reason to go above the standard").fill("Fragile goods.")
    await form.get_by_test_id("compensation_set").click()
    await done_and_focused(sup, "The compensation is set.")
    form = sup.get_by_test_id("payout_issued-form")
    await expect(form).to_contain_text("450.00 CNY")
    await form.get_by_label("Payout voucher").fill("PV-2026-0001")
    await form.get_by_test_id("payout_issued").click()
    await done_and_focused(sup, "The claim is closed; nothing more to do.")
    await expect(sup.get_by_test_id("claim-state")).to_contain_text("paid out")
    await expect(sup.get_by_test_id("override")).to_contain_text("web-supervisor")
    await expect(sup.get_by_test_id("timeline")).to_contain_text("web-operator")
    await shot(sup, "claim-en-1280-paid")
    await readable(sup, 1280)
    await supervisor.close()

    # The same claim and the queue, in zh-CN on a phone.
    phone, zh = await signed_in(browser, site, "operator", locale="zh-CN", width=390)
    await zh.goto(claim_url)
    await expect(zh.get_by_test_id("claim-state")).to_contain_text("已赔付")
    await expect(zh.get_by_test_id("documents")).to_contain_text("事故报告")
    await readable(zh, 390)
    await shot(zh, "claim-zh-390-paid")
    await zh.get_by_role("link", name="理赔", exact=True).click()
    await expect(zh.get_by_test_id("claims-empty")).to_be_visible()  # the open ones: none
    await zh.get_by_label("状态").select_option("closed")
    await zh.get_by_role("button", name="筛选").click()
    await expect(zh.get_by_test_id("claims")).to_contain_text("已结案")
    await expect(zh.get_by_test_id("claims")).to_contain_text(order_id)
    await readable(zh, 390)
    await shot(zh, "claims-zh-390")
    await phone.close()
    await context.close()


async def test_a_low_score_complaint_is_worked_to_closed_in_the_console(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    order_id = await delivered(site, tier="key_account")
    context, page = await signed_in(browser, site, "operator", locale="zh-CN", width=390)
    await page.goto(f"{site.base}/console/orders/{order_id}")

    # The follow-up call that raises it, recorded on the order page.
    call = page.get_by_test_id("call-form")
    await call.locator("#call-outcome").select_option("answered")
    for question, score in (("timeliness", "1"), ("completeness", "4"), ("courtesy", "5")):
        await call.locator(f"#score-{question}").select_option(score)
    await call.get_by_test_id("call").click()
    link = page.get_by_test_id("complaint-link")
    for _ in range(40):
        if await link.count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    await link.click()
    await expect(page.get_by_test_id("survey")).to_contain_text("低分")
    await expect(page.get_by_test_id("summary")).to_contain_text("下一步：分派给部门")
    await readable(page, 390)
    await shot(page, "complaint-zh-390-accepted")

    form = page.get_by_test_id("routed-form")
    await form.get_by_label("部门").select_option("transport")
    await form.get_by_label("类别").select_option("delay")
    await form.get_by_test_id("routed").click()
    await done_and_focused(page, "投诉已分派。")

    form = page.get_by_test_id("first_reply-form")
    zone = ZoneInfo("Asia/Shanghai")
    past = (datetime.now(UTC) - timedelta(hours=2)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    await form.get_by_label("告知客户的内容").fill("司机在苏州附近抛锚，已致歉。")
    await form.get_by_label("处理方案").fill("退还运费，并增加备用承运商。")
    await form.get_by_label("承诺解决时间").fill(past)
    await form.get_by_test_id("first_reply").click()
    await expect(page.get_by_test_id("form-error")).to_contain_text("承诺解决时间必须晚于现在")
    form = page.get_by_test_id("first_reply-form")
    await expect(form.get_by_label("处理方案")).to_have_value("退还运费，并增加备用承运商。")
    soon = (datetime.now(UTC) + timedelta(days=1)).astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    await form.get_by_label("承诺解决时间").fill(soon)
    await form.get_by_test_id("first_reply").click()
    await done_and_focused(page, "已记录答复。")

    form = page.get_by_test_id("resolved-form")
    await form.get_by_label("解决结果").fill("运费已退还；备用承运商已签约。")
    await form.get_by_test_id("resolved").click()
    await done_and_focused(page, "投诉已解决。")

    form = page.get_by_test_id("satisfaction-form")
    await form.get_by_label("客户满意度").select_option("4")
    await form.get_by_test_id("satisfaction").click()
    await done_and_focused(page, "投诉已关闭，无需其他操作。")
    await expect(page.get_by_test_id("complaint-step")).to_contain_text("已关闭")
    await readable(page, 390)
    await shot(page, "complaint-zh-390-closed")
    complaint_url = page.url.split("?")[0]
    await context.close()

    # The same complaint and the queue, in English at 1280 px.
    context, page = await signed_in(browser, site, "supervisor")
    await page.goto(complaint_url)
    await expect(page.get_by_test_id("department")).to_contain_text("Transport")
    await expect(page.get_by_test_id("timeline")).to_contain_text("web-operator")
    await readable(page, 1280)
    await shot(page, "complaint-en-1280-closed")
    await page.get_by_role("link", name="Complaints", exact=True).click()
    await expect(page.get_by_test_id("list-order")).to_contain_text("soonest due first")
    await expect(page.get_by_test_id("complaints-empty")).to_be_visible()  # none open
    await page.get_by_label("State").select_option("")
    await page.get_by_label("Customer tier").select_option("key_account")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_test_id("complaints")).to_contain_text("Key account")
    await readable(page, 1280)
    await shot(page, "complaints-en-1280")
    await context.close()
