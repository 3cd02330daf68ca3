"""The bulk import page in real Chromium (harness: tests/support/browser.py), in both languages
at desk (1280 px) and phone (390 px) width: an operator downloads the template, uploads a file,
watches the progress bar move by itself to the result, and finds the report link; a refused file
is said in words. Screenshots under .data/screenshots/console/imports-*."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import playwright.async_api as playwright_api
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.browser import Site, served, shot, signed_in
from tests.support.imports_harness import HEADER, csv_file, order_rows

expect = playwright_api.expect
WORDS = {
    "en-US": {"title": "Import orders", "submit": "Upload and import",
              "done": "Import finished: 11 orders created", "report": "Download the report",
              "refused": "These column headers are not in the template: colour."},
    "zh-CN": {"title": "批量导入订单", "submit": "上传并导入", "done": "导入完成：创建 11 个订单",
              "report": "下载导入报告", "refused": "以下表头不在模板中：colour。"},
}


@pytest.fixture
async def slow_site(dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str,
                    tmp_path: Path) -> AsyncIterator[Site]:
    # One order at a time, two per batch: the progress bar has time to move on screen.
    async with served(dev_env, sqlite_url, task_queue, tmp_path, import_batch_size=2,
                      import_concurrency=1) as s:
        yield s


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_an_operator_imports_a_file_and_watches_it_finish(
        slow_site: Site, browser, locale: str, tmp_path: Path) -> None:  # noqa: F811
    words = WORDS[locale]
    lang = "en" if locale == "en-US" else "zh-CN"
    for width in (1280, 390):
        tag = f"BR-{lang}-{width}"
        bad = order_rows(f"{tag}-BAD")
        bad[0][5] = "0"
        rows = [r for i in range(11) for r in order_rows(f"{tag}-{i}")] + bad
        good = tmp_path / f"{tag}.csv"
        good.write_bytes(csv_file(rows))
        context, page = await signed_in(browser, slow_site, "operator", locale, width)
        await page.goto(f"{slow_site.base}/console/orders/imports")
        await expect(page.get_by_role("heading", name=words["title"])).to_be_visible()
        async with page.expect_download() as template:
            await page.get_by_test_id("template-xlsx").click()
        assert (await template.value).suggested_filename == f"waybill-orders-{lang}.xlsx"
        await shot(page, f"imports-{lang}-{width}")
        await page.locator("#f-file").set_input_files(str(good))
        await page.get_by_role("button", name=words["submit"]).click()
        await expect(page.get_by_test_id("import-progress")).to_be_visible()
        await shot(page, f"import-running-{lang}-{width}")
        # No reload by hand: the page's poller brings the result.
        await expect(page.get_by_test_id("import-result")).to_contain_text(
            words["done"], timeout=90_000)
        await expect(page.get_by_test_id("import-refusals")).to_contain_text(f"{tag}-BAD")
        await expect(page.get_by_test_id("import-report")).to_contain_text(words["report"])
        fits = await page.evaluate(
            "() => document.documentElement.scrollWidth <= window.innerWidth")
        assert fits, f"the import page is wider than {width} px"
        await shot(page, f"import-done-{lang}-{width}")
        async with page.expect_download() as report:
            await page.get_by_test_id("import-report").click()
        data = Path(await (await report.value).path()).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and f"{tag}-BAD".encode() in data

        wrong = tmp_path / f"{tag}-wrong.csv"
        wrong.write_bytes(csv_file(order_rows(f"{tag}-W"), [*HEADER[:-1], "colour"]))
        await page.goto(f"{slow_site.base}/console/orders/imports")
        await page.locator("#f-file").set_input_files(str(wrong))
        await page.get_by_role("button", name=words["submit"]).click()
        await expect(page.get_by_test_id("import-error")).to_contain_text(words["refused"])
        await context.close()
