"""Bulk import over HTTP: API -> archive -> import workflow -> the order service -> report."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from tests.support.api_harness import Api, order_body
from tests.support.imports_harness import (
    HEADER,
    csv_file,
    finished,
    order_rows,
    report,
    upload,
)


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    # Small batches: a file of a few orders still takes several activities.
    return {"import_batch_size": 2, "import_max_rows": 40, "import_max_bytes": 16 * 1024}


async def test_import_creates_orders_reports_bad_rows_and_a_reupload_is_duplicates(
        api: Api) -> None:
    taken = order_body("IMP-TAKEN")
    assert (await api.create(taken)).status_code == 201
    bad_qty = order_rows("IMP-BAD")
    bad_qty[0][5] = "0"
    rows = [*order_rows("IMP-1", lines=3), *order_rows("IMP-2"), *bad_qty,
            *order_rows("IMP-TAKEN"), *order_rows("IMP-3", lines=2)]
    data = csv_file(rows)

    resp = await upload(api, data)
    assert resp.status_code == 202, resp.text
    started = resp.json()
    assert (started["total_rows"], started["total_orders"]) == (8, 5)
    done = await finished(api, started["import_id"])
    assert done["status"] == "done" and done["progress"] == 1.0
    assert (done["created"], done["duplicates"], done["refused"]) == (3, 0, 2)

    order = (await api.get("/v1/orders/IMP-1")).json()
    assert [(line["sku"], line["ordered"]) for line in order["lines"]] == \
        [("SKU-1", 2), ("SKU-2", 3), ("SKU-3", 4)]
    assert (await api.get("/v1/orders/IMP-BAD")).status_code == 404

    lines = await report(api, started["import_id"])
    assert lines[0] == ["row", "order_id", "outcome", "code", "message"]
    by_order = {line[1]: line for line in lines[1:]}
    assert by_order["IMP-1"][:4] == ["2", "IMP-1", "created", ""]
    assert by_order["IMP-BAD"][2:4] == ["refused", "validation_error"]
    assert by_order["IMP-BAD"][4].startswith("column qty (row 6)")
    assert by_order["IMP-TAKEN"][2:4] == ["refused", "order_exists"]
    zh = await report(api, started["import_id"], "zh-CN")
    assert zh[0] == ["行号", "订单号", "结果", "错误代码", "说明"]
    assert {line[1]: line[4] for line in zh[1:]}["IMP-BAD"] == "数量（第 6 行）：不能小于 1"

    # The same file again: a new import whose orders are duplicates, not errors (the bad
    # rows are still refused, for the same reasons).
    again = await finished(api, (await upload(api, data)).json()["import_id"])
    assert (again["created"], again["duplicates"], again["refused"]) == (0, 3, 2)
    listed = (await api.get("/v1/orders/imports")).json()["items"]
    assert [i["import_id"] for i in listed[:2]] == [again["import_id"], started["import_id"]]


@pytest.mark.one_engine
async def test_xlsx_upload_with_chinese_headers_creates_the_orders(api: Api) -> None:
    template = await api.get("/v1/orders/import/template.xlsx", lang="zh-CN")
    assert template.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    header = [c.value for c in next(book.active.iter_rows(max_row=1))]
    assert header[:3] == ["订单号", "客户编号", "客户名称"]
    sheet = openpyxl.Workbook()
    sheet.active.append(["订单号", "客户编号", "客户名称", "客户等级", "商品编码", "数量",
                         "收货地址", "城市", "收货人", "承诺发货时间", "承诺送达时间"])
    for row in order_rows("IMP-X1", lines=2) + order_rows("IMP-X2"):
        sheet.active.append(row)
    out = io.BytesIO()
    sheet.save(out)
    resp = await upload(api, out.getvalue(), "订单.xlsx")
    assert resp.status_code == 202, resp.text
    done = await finished(api, resp.json()["import_id"])
    assert (done["format"], done["filename"], done["created"]) == ("xlsx", "订单.xlsx", 2)


@pytest.mark.validation
async def test_bad_files_and_callers_are_refused_before_anything_is_stored(api: Api) -> None:
    one = csv_file(order_rows("IMP-V1"))
    cases = [
        (await upload(api, b""), 422, "empty_file"),
        (await upload(api, csv_file(order_rows("IMP-V2"), [*HEADER[:-1], "colour"])), 422,
         "unknown_columns"),
        (await upload(api, csv_file(order_rows("IMP-V3"), HEADER[:-1])), 422,
         "missing_columns"),
        (await upload(api, csv_file([r for i in range(41) for r in order_rows(f"V{i}")])),
         413, "too_many_rows"),
        (await upload(api, one + b"#" * 17 * 1024), 413, "file_too_large"),
        (await upload(api, b"\xd0\xcf\x11\xe0 old excel"), 415, "unsupported_import_format"),
        (await api.http.post("/v1/orders/imports", json={"file": "x"},
                             headers=api.auth("operator")), 422, "missing_file"),
        (await upload(api, one, role="integration"), 403, "forbidden"),
        (await upload(api, one, role="auditor"), 403, "forbidden"),
        (await api.get("/v1/orders/import/template.pdf"), 404, "unknown_format"),
        (await api.get("/v1/orders/imports/imp-nope"), 404, "import_not_found"),
    ]
    for resp, status, code in cases:
        assert (resp.status_code, resp.json()["error"]["code"]) == (status, code), resp.text
    assert (await api.get("/v1/orders/imports")).json()["items"] == []
    template = await api.get("/v1/orders/import/template.csv", lang="zh-CN")
    assert template.content.decode("utf-8-sig").startswith("订单号,客户编号")
    assert "attachment" in template.headers["content-disposition"]
