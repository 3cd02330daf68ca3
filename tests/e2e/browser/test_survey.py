"""The follow-up survey link filled in by a customer in real Chromium, on a phone-sized
screen in Chinese: the answer reaches the order, a low score opens a complaint, and the link
then only says it was answered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from config import Settings
from shared.survey_links import links_for
from tests.support.api_harness import order_body
from tests.support.browser import SHOTS, Site, served
from tests.support.builders import FULL_PICK, POD, SHIP, policy_yaml

SHOTS_DIR = SHOTS.parent / "survey"


async def until(probe: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    for _ in range(int(timeout * 5)):
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("condition not reached")


async def test_a_customer_answers_the_survey_on_a_phone(
        dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str, tmp_path: Path,
        browser: Any) -> None:  # noqa: F811  (the imported fixture)
    policies = tmp_path / "policies.yaml"
    policies.write_text(policy_yaml(survey_after="PT1S", survey_window="PT1H"))
    async with served(dev_env, sqlite_url, task_queue, tmp_path, sla_policies=policies) as site:
        order_id = await delivered(site)

        async def due() -> bool:
            view = (await site.http.get(f"/v1/orders/{order_id}", headers=auth(site))).json()
            return (view["follow_up"] or {}).get("status") == "due"
        await until(due)

        token = links_for(Settings(data_dir=tmp_path)).token(order_id)
        context = await browser.new_context(locale="zh-CN",
                                            viewport={"width": 390, "height": 844})
        page = await context.new_page()
        await page.goto(f"{site.base}/s/{token}")
        assert await page.get_attribute("html", "lang") == "zh-CN"
        # As a customer does: tap the labels (the radios themselves are styled under them).
        await page.click("label[for=goods_ok-no]")
        for question, score in (("timeliness", 4), ("completeness", 2), ("courtesy", 5)):
            await page.click(f"label[for={question}-{score}]")
            assert await page.is_checked(f"#{question}-{score}")
        await page.fill("textarea[name=suggestions]", "外箱压坏了")
        SHOTS_DIR.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS_DIR / "form-zh-390.png"), full_page=True)
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=感谢您的反馈")

        view = (await site.http.get(f"/v1/orders/{order_id}", headers=auth(site))).json()
        answers = view["follow_up"]
        assert (answers["status"], answers["channel"], answers["goods_ok"]) == (
            "answered", "web", False)
        assert answers["scores"] == {"timeliness": 4, "completeness": 2, "courtesy": 5}
        assert answers["suggestions"] == "外箱压坏了"
        assert view["complaints"] == [f"{order_id}-CP1"]

        await page.go_back()  # the link again: no form any more, only "already answered"
        await page.wait_for_selector("text=您已评价过")
        assert await page.locator("button[type=submit]").count() == 0
        again = (await site.http.get(f"/v1/orders/{order_id}", headers=auth(site))).json()
        assert again["follow_up"] == answers
        await context.close()


def auth(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.keys['operator']}"}


async def delivered(site: Site) -> str:
    body = order_body()
    assert (await site.post("/v1/orders", body, role="operator")).status_code == 201
    for i, (type_, data) in enumerate((("confirmed", {}), ("picked", FULL_PICK),
                                       ("shipped", SHIP), ("delivered", POD))):
        resp = await site.post(f"/v1/orders/{body['order_id']}/events", {
            "event_id": f"e{i}", "type": type_, "occurred_at": datetime.now(UTC).isoformat(),
            "data": data})
        assert resp.status_code == 200, resp.text
    return body["order_id"]
