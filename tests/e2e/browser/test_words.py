"""Issue 18 §6-§7 in real Chromium, both languages, 1280 and 390 px: an order delivered damaged
says so at the top of its page with its open claim and complaint; its low scores are marked
with a word; on a phone the Lines table is one card per line, shipped and delivered on screen
with no sideways scrolling (harness: tests/support/browser.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import playwright.async_api as playwright_api
import pytest
from temporalio.testing import WorkflowEnvironment

from console.i18n import catalogue
from tests.support.browser import Site, served, shot, signed_in
from tests.support.damaged_harness import DAMAGED_LADDER, damaged_order


@pytest.fixture
async def site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
               tmp_path: Path) -> AsyncIterator[Site]:
    path = tmp_path / "ladder.yaml"
    path.write_text(DAMAGED_LADDER)
    async with served(dev_env, sqlite_url, task_queue, tmp_path, sla_policies=path) as s:
        yield s


async def test_a_damaged_order_reads_right_at_a_glance(site: Site, browser) -> None:  # noqa: F811
    expect = playwright_api.expect
    order_id = await damaged_order(site.http, site.keys)
    for locale, lang in (("en-US", "en"), ("zh-CN", "zh-CN")):
        words = catalogue(lang)
        damaged = words["order.alert.condition"].format(
            condition=words["order.condition.damaged"])
        for width in (1280, 390):
            context, page = await signed_in(browser, site, "operator", locale=locale,
                                            width=width)
            await page.goto(f"{site.base}/console/orders/{order_id}")
            # the header: the damage and the open cases, above the fold, before the deadlines
            alerts = page.get_by_test_id("order-alerts")
            await expect(alerts).to_be_visible()
            await expect(alerts.locator('[data-alert="condition"]')).to_have_text(damaged)
            await expect(alerts.locator('[data-alert="claim"]')).to_contain_text(
                f"{order_id}-CL1")
            await expect(alerts.locator('[data-alert="complaint"]')).to_contain_text(
                f"{order_id}-CP1")
            box = await alerts.bounding_box()
            deadlines = await page.locator("#h-deadlines").bounding_box()
            assert box and deadlines and box["y"] < deadlines["y"] and box["y"] < 600, box
            # low scores: a word beside the score, not colour only
            low = page.get_by_test_id("scores").locator('[data-low="true"]')
            await expect(low).to_have_count(2)
            for i in range(2):
                await expect(low.nth(i)).to_contain_text(words["order.score_low"])
            # the Lines table: every quantity on screen, no sideways scroller
            lines = page.get_by_test_id("lines")
            wrap = await lines.evaluate(
                "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
            assert wrap[0] <= wrap[1] + 1, (locale, width, wrap)
            for col in ("shipped", "delivered"):
                cell = lines.locator(f'tr[data-sku="SKU-1"] td[data-col="{col}"]')
                await expect(cell).to_be_visible()
                cell_box = await cell.bounding_box()
                assert cell_box and cell_box["x"] + cell_box["width"] <= width, (col, cell_box)
            if width == 390:  # each quantity under its column's name
                label = await lines.locator('tr[data-sku="SKU-1"] td[data-col="shipped"]'
                                            ).evaluate(
                    "td => getComputedStyle(td, '::before').content")
                assert words["order.col_shipped"] in label, label
            await page.get_by_test_id("order-alerts").scroll_into_view_if_needed()
            await shot(page, f"words-order-{lang}-{width}")
            await context.close()
