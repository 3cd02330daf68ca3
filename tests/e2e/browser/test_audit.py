"""The audit page in real Chromium: an auditor finds an order, reads both histories and downloads
the timeline as CSV, the story in the page's language and the PDF dossier."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import playwright.async_api as playwright_api
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.api_harness import order_body
from tests.support.browser import Site, served, shot, signed_in


@pytest.fixture
async def site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    async with served(dev_env, sqlite_url, task_queue, tmp_path) as s:
        yield s


async def test_an_auditor_opens_an_order_and_downloads_its_timeline_as_csv(
        site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    body = order_body()
    order_id = body["order_id"]
    assert (await site.post("/v1/orders", body)).status_code == 201
    await site.event(order_id, "confirmed")

    context, page = await signed_in(browser, site, "auditor")
    await page.get_by_role("link", name="Audit").click()
    await page.get_by_label("Order id").fill(order_id)
    await page.get_by_test_id("audit-by-id").get_by_role("button").click()
    timeline = page.get_by_test_id("audit-timeline")
    # The projection is written by an activity: reload until the confirmation is recorded.
    for _ in range(40):
        if await timeline.locator('tr[data-type="confirmed"]').count():
            break
        await page.wait_for_timeout(250)
        await page.reload()
    await expect(timeline.locator('tr[data-type="confirmed"]')).to_contain_text("web-integration")
    history = page.get_by_test_id("audit-history")
    started = history.locator('tr[data-event-type="WORKFLOW_EXECUTION_STARTED"]')
    await expect(started).to_be_visible()
    await started.locator("summary").click()
    await expect(started.locator("pre")).to_contain_text("workflow_execution_started")
    await shot(page, "audit-en-1280-auditor")

    async with page.expect_download() as info:
        await page.get_by_test_id("timeline-csv").click()
    download = await info.value
    assert download.suggested_filename == f"{order_id}-timeline.csv"
    raw = Path(await download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the byte order mark spreadsheets need
    text = raw.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    shown = await timeline.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.type)")
    assert [r["type"] for r in rows] == shown
    confirmed = next(r for r in rows if r["type"] == "confirmed")
    assert confirmed["actor"] == "web-integration" and confirmed["source"]

    # Issue 17 §5: the story in the page's language (English here), and the PDF dossier.
    async with page.expect_download() as info:
        await page.get_by_test_id("story-csv").click()
    story = (await info.value)
    assert story.suggested_filename == f"{order_id}-story.csv"
    header = Path(await story.path()).read_bytes().decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Order,Kind,Type,What happened,Actor,Source,Event time (")
    async with page.expect_download() as info:
        await page.get_by_test_id("dossier-pdf").click()
    dossier = await info.value
    assert dossier.suggested_filename == f"{order_id}-dossier.pdf"
    assert Path(await dossier.path()).read_bytes().startswith(b"%PDF")
    await context.close()
