"""The customer tracking page in real Chromium (issue 19 §2), on a phone (390 px) and a desktop
(1280 px), in Chinese and in English: an order on its way with scans, an ETA and a delivery
exception; a delivered order with its proof and the survey link once due; the lookup form.

The orders go through the real API, workflow and worker; the link is the one notices carry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.testing import WorkflowEnvironment

from config import Settings
from shared.survey_links import tracking_links_for
from tests.support.api_harness import order_body
from tests.support.browser import SHOTS, Site, served
from tests.support.builders import FULL_PICK, POD, policy_yaml

SHOTS_DIR = SHOTS.parent / "tracking"
SHANGHAI = ZoneInfo("Asia/Shanghai")
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
WORDS = {
    "zh-CN": {"moving": "运输中", "delivered": "已送达", "exception": "收货人不在，未能签收",
              "next": "承运商将再次派送", "pod": "已签收：签名已留存为签收凭证。",
              "survey": "填写简短问卷", "survey_page": "货物是否完好、齐全地送达？",
              "phone": "尾号 8000", "not_yet": "尚未送达"},
    "en": {"moving": "On the way", "delivered": "Delivered",
           "exception": "Nobody was there to receive the goods",
           "next": "The carrier will try again", "pod": "Signed for on delivery",
           "survey": "Answer the short survey", "survey_page": "Did the goods arrive in order?",
           "phone": "ending in 8000", "not_yet": "Not delivered yet"},
}


async def until(probe: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    for _ in range(int(timeout * 5)):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached")


def shown(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def post_events(site: Site, order_id: str, events: list[tuple[str, dict[str, Any]]],
                      ) -> None:
    start = datetime.now(UTC)
    for i, (type_, data) in enumerate(events):
        resp = await site.post(f"/v1/orders/{order_id}/events", {
            "event_id": f"{order_id}-e{i}", "type": type_,
            "occurred_at": (start + timedelta(seconds=i)).isoformat(), "data": data})
        assert resp.status_code == 200, resp.text


def new_order(tracking_no: str, language: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = order_body()
    body["customer"]["language"] = language
    body["destination"].update(contact="李雷", phone="138 0013 8000")
    return body, {"carrier": "顺丰速运", "tracking_no": tracking_no, "vehicle": "沪A-1234",
                  "driver": "张师傅"}


async def open_page(browser: Any, url: str, locale: str, viewport: str) -> tuple[Any, Any]:
    context = await browser.new_context(locale=locale, viewport=VIEWPORTS[viewport])
    page = await context.new_page()
    await page.goto(url)
    return context, page


async def fits(page: Any) -> None:
    """Nothing wider than the screen: no sideways scrolling on a phone."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


async def test_a_customer_follows_an_order_on_a_phone_and_a_desktop_in_both_languages(
        dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str, tmp_path: Path,
        browser: Any) -> None:  # noqa: F811  (the imported fixture)
    policies = tmp_path / "policies.yaml"
    policies.write_text(policy_yaml(survey_after="PT1S", survey_window="PT1H",
                                    scan_gap="P1D"))
    async with served(dev_env, sqlite_url, task_queue, tmp_path, sla_policies=policies) as site:
        links = tracking_links_for(Settings(data_dir=tmp_path))
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        eta, new_promise = now + timedelta(days=5), now + timedelta(days=6)

        moving, ship = new_order("SF7000000001", "zh-CN")
        assert (await site.post("/v1/orders", moving, role="operator")).status_code == 201
        await post_events(site, moving["order_id"], [
            ("confirmed", {}), ("picked", FULL_PICK), ("shipped", ship),
            ("tracking_scan", {"location": "上海转运中心", "status": "已发出"}),
            ("tracking_scan", {"location": "杭州分拨中心", "status": "已到达",
                               "eta": eta.isoformat()}),
            ("delivery_exception", {"reason": "consignee_absent", "text": "张师傅：门卫不让进",
                                    "promised_delivery_by": new_promise.isoformat()})])

        done, ship_done = new_order("SF7000000002", "en")
        assert (await site.post("/v1/orders", done, role="operator")).status_code == 201
        await post_events(site, done["order_id"], [
            ("confirmed", {}), ("picked", FULL_PICK), ("shipped", ship_done),
            ("tracking_scan", {"location": "北京顺义", "status": "派送中"}), ("delivered", POD)])

        async def projected() -> bool:
            views = [(await site.http.get(f"/v1/orders/{o['order_id']}", headers=auth(site))
                      ).json() for o in (moving, done)]
            return (len(views[0]["exceptions"] or []) == 1
                    and (views[1]["follow_up"] or {}).get("status") == "due")
        await until(projected)

        for viewport in VIEWPORTS:
            for locale in ("zh-CN", "en"):
                words = WORDS[locale]
                # The order on its way: opened in the customer's language (zh-CN), English by
                # the switch on the page, as a customer would.
                context, page = await open_page(
                    browser, f"{site.base}/t/{links.token(moving['order_id'])}", locale, viewport)
                if locale == "en":
                    await page.click("header nav a[hreflang=en]")
                    await page.wait_for_selector("html[lang=en]")
                assert await page.get_attribute("html", "lang") == locale
                await fits(page)
                assert words["moving"] in await page.inner_text("#status")
                steps = page.locator("#stages li")
                assert await steps.count() == 6
                assert await page.locator("#stages li.done").count() == 5
                assert await page.locator("#stages li[aria-current=step]").count() == 1
                scans = await page.inner_text("#scans")
                assert scans.index("杭州分拨中心") < scans.index("上海转运中心")  # newest first
                assert await page.is_visible("#promise") and await page.is_visible("#eta")
                exception = await page.inner_text("#exception")
                assert words["exception"] in exception and words["next"] in exception
                assert shown(new_promise) in exception
                assert words["not_yet"] in await page.inner_text("#pod")
                assert words["phone"] in await page.inner_text("#phone")
                body = await page.inner_text("body")
                for private in ("张师傅", "门卫", "沪A-1234", "Sanghong", "Century", "李雷",
                                "13800138000", "ops@example.com"):
                    assert private not in body, private
                assert await page.locator("#survey").count() == 0
                SHOTS_DIR.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SHOTS_DIR / f"moving-{locale}-{viewport}.png"),
                                      full_page=True)
                await context.close()

                # The delivered order: its proof, and the survey link now that it is due.
                lang = "" if locale == "en" else "?lang=zh-CN"
                context, page = await open_page(
                    browser, f"{site.base}/t/{links.token(done['order_id'])}{lang}", locale,
                    viewport)
                await fits(page)
                assert words["delivered"] in await page.inner_text("#status")
                assert await page.locator("#stages li.done").count() == 6
                assert words["pod"] in await page.inner_text("#pod")
                assert await page.locator("#exception").count() == 0
                await page.screenshot(path=str(SHOTS_DIR / f"delivered-{locale}-{viewport}.png"),
                                      full_page=True)
                await page.click(f"text={words['survey']}")
                await page.wait_for_selector(f"text={words['survey_page']}")
                assert "/s/" in page.url
                await context.close()


async def test_a_customer_finds_the_order_by_tracking_number_and_phone_digits(
        dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str, tmp_path: Path,
        browser: Any) -> None:  # noqa: F811  (the imported fixture)
    async with served(dev_env, sqlite_url, task_queue, tmp_path) as site:
        body, ship = new_order("YT8000000001", "en")
        assert (await site.post("/v1/orders", body, role="operator")).status_code == 201
        await post_events(site, body["order_id"], [
            ("confirmed", {}), ("picked", FULL_PICK), ("shipped", ship)])

        async def shipped() -> bool:
            view = (await site.http.get(f"/v1/orders/{body['order_id']}",
                                        headers=auth(site))).json()
            return view["stage"] in ("shipped", "in_transit")
        await until(shipped)

        context, page = await open_page(browser, f"{site.base}/t", "zh-CN", "phone")
        assert await page.get_attribute("html", "lang") == "zh-CN"  # the browser's language
        await page.get_by_label("运单号").fill("yt8000000001")
        await page.get_by_label("手机号后四位").fill("1234")  # wrong digits
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=未找到与该运单号和手机号相符的订单")
        await fits(page)
        await page.get_by_label("手机号后四位").fill("8000")
        await page.click("button[type=submit]")
        await page.wait_for_selector("#stages")
        assert "/t/" in page.url and body["order_id"] in await page.inner_text("#order")
        # The lookup's language carries over (the order's customer reads English).
        assert await page.get_attribute("html", "lang") == "zh-CN"
        status = await page.inner_text("#status")
        assert "已交承运商" in status or "运输中" in status  # in transit once its timer fires
        await page.screenshot(path=str(SHOTS_DIR / "lookup-zh-CN-phone.png"), full_page=True)
        await context.close()


def auth(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.keys['operator']}"}
