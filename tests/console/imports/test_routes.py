"""The console's import pages over HTTP: upload with the CSRF token, the import's page and its
live progress, refusals in words in both languages, templates in the page's language."""

from __future__ import annotations

import io

import pytest

from tests.support.api_harness import Api
from tests.support.console_harness import csrf_of, sign_in
from tests.support.imports_harness import HEADER, csv_file, order_rows
from tests.support.polling import eventually

pytestmark = pytest.mark.one_engine


async def test_an_operator_imports_a_file_and_follows_it_to_the_report(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"])
    page = await http.get("/console/orders/imports")
    assert page.status_code == 200 and 'href="/console/orders/imports"' in page.text
    assert 'data-testid="import-list-empty"' in page.text
    bad = order_rows("CI-BAD")
    bad[0][5] = "0"
    data = csv_file([*order_rows("CI-1", lines=2), *bad])
    sent = await http.post("/console/orders/imports", data={"csrf": csrf_of(page.text)},
                           files={"file": ("orders.csv", data, "text/csv")})
    assert sent.status_code == 303, sent.text
    where = sent.headers["location"]
    assert where.startswith("/console/orders/imports/imp-") and where.endswith("?done=started")
    import_id = where.split("/")[-1].split("?")[0]

    async def finished() -> dict | None:
        live = (await http.get(f"/console/orders/imports/{import_id}/live")).json()
        return live if live["finished"] else None
    live = await eventually(finished, timeout=60)
    assert (live["created"], live["refused"], live["percent"]) == (1, 1, 100)
    assert live["words"] == "2 of 2 orders done"
    done = await http.get(where.split("?")[0])
    assert 'data-testid="import-result"' in done.text
    assert "1 orders created, 0 duplicates" in done.text
    assert "column qty (row 4)" in done.text  # the refused order, in the viewer's words
    report = await http.get(f"/console/orders/imports/{import_id}/report.csv")
    assert report.content.decode("utf-8-sig").splitlines()[0] == "row,order_id,outcome,code,message"

    await sign_in(http, api.keys["operator"], lang="zh-CN")
    zh = await http.get(where.split("?")[0])
    assert "导入完成" in zh.text and "数量（第 4 行）：不能小于 1" in zh.text
    zh_report = await http.get(f"/console/orders/imports/{import_id}/report.csv")
    assert zh_report.content.decode("utf-8-sig").startswith("行号,订单号,结果")
    template = await http.get("/console/orders/import/template.xlsx")
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert next(book.active.iter_rows(max_row=1, values_only=True))[0] == "订单号"
    listing = await http.get("/console/orders/imports")
    assert f'data-import="{import_id}"' in listing.text and "已完成" in listing.text


async def test_a_refused_file_is_said_in_words_and_the_csrf_token_is_checked(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"], lang="zh-CN")
    page = await http.get("/console/orders/imports")
    wrong = csv_file(order_rows("CI-2"), [*HEADER[:-1], "颜色"])
    refused = await http.post("/console/orders/imports", data={"csrf": csrf_of(page.text)},
                              files={"file": ("orders.csv", wrong, "text/csv")})
    assert refused.status_code == 422
    assert "以下表头不在模板中：颜色。" in refused.text
    forged = await http.post("/console/orders/imports", data={"csrf": "0" * 32},
                             files={"file": ("orders.csv", csv_file(order_rows("CI-3")),
                                             "text/csv")})
    assert forged.status_code == 403
    assert (await api.get("/v1/orders/imports")).json()["items"] == []
    await sign_in(http, api.keys["auditor"])
    assert (await http.get("/console/orders/imports")).status_code == 403
    assert 'href="/console/orders/imports"' not in (await http.get("/console/board")).text
