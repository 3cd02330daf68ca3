"""The console in real Chromium (Debian's /usr/bin/chromium, driven by playwright; nothing is
downloaded), against the real app served by uvicorn, a Temporal dev server and a worker.

`browser` and `site` are fixtures for every test module (tests/conftest.py imports them);
a module that needs another site defines its own `site`."""

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
from db.keys.queries import create_key
from tests.support.codec import TEST_KEYS
from tests.support.pg import free_port
from tests.support.worker_harness import running_worker

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
    # The API connects to Temporal itself: with the key the tests' worker and clients use.
    settings = Settings(database_url=url, task_queue=task_queue, data_dir=tmp_path,
                        temporal_address=target, temporal_codec_keys=TEST_KEYS,
                        **settings_extra)
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
