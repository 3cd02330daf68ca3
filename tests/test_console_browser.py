"""The console in real Chromium (Debian's /usr/bin/chromium, driven by playwright; nothing is
downloaded), against the real app served by uvicorn, a Temporal dev server and a worker."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import playwright.async_api as playwright_api
import pytest
import uvicorn
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.deps import Role
from config import REPO_ROOT, Settings
from db.engine import make_engine, session_factory, transaction
from db.keys import create_key
from tests.api_harness import order_body
from tests.conftest import running_worker
from tests.pg import free_port

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = REPO_ROOT / ".data" / "screenshots" / "console"  # .data/ is ignored by git


@dataclass
class Site:
    base: str
    keys: dict[str, str]
    http: httpx.AsyncClient

    async def post(self, path: str, body: dict, role: str = "integration") -> httpx.Response:
        return await self.http.post(path, json=body,
                                    headers={"Authorization": f"Bearer {self.keys[role]}"})

    async def event(self, order_id: str, type_: str) -> None:
        resp = await self.post(f"/v1/orders/{order_id}/events", {
            "event_id": f"ev-{uuid.uuid4().hex[:10]}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": {}})
        assert resp.status_code == 200, resp.text


@asynccontextmanager
async def served(dev_env: WorkflowEnvironment, url: str, task_queue: str,
                 tmp_path: Path, **settings_extra: object) -> AsyncIterator[Site]:
    target = dev_env.client.service_client.config.target_host
    settings = Settings(database_url=url, task_queue=task_queue, data_dir=tmp_path,
                        temporal_address=target, **settings_extra)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as session:
        keys = {r.value: create_key(session, f"web-{r.value}", r.value)[1] for r in Role}
    engine.dispose()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            await asyncio.sleep(0.1)
        assert server.started, "uvicorn did not start"
        base = f"http://127.0.0.1:{port}"
        async with (running_worker(dev_env.client, url, task_queue, settings),
                    httpx.AsyncClient(base_url=base, timeout=60) as http):
            yield Site(base=base, keys=keys, http=http)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)


@pytest.fixture
async def site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    async with served(dev_env, sqlite_url, task_queue, tmp_path) as s:
        yield s


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    # No skip: a machine without Chromium must fail loudly (.ci/run installs it with apt).
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        await chromium.close()


async def signed_in(browser, site: Site, role: str, locale: str = "en-US", width: int = 1280):
    context = await browser.new_context(locale=locale, viewport={"width": width, "height": 900})
    page = await context.new_page()
    await page.goto(f"{site.base}/console/board")
    await page.get_by_label("API key" if locale.startswith("en") else "API 密钥").fill(
        site.keys[role])
    await page.get_by_test_id("sign-in").click()
    await page.wait_for_selector("#board")
    return context, page


async def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


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
    href = await moved.locator("a.wf-link").get_attribute("href")
    assert href.endswith(f"/namespaces/default/workflows/order-{order_id}")
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
