"""Import files read and checked without a stack: formats, encodings, headers in both
languages, bounds, grouping of lines into orders, and the API's own rules per order."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from api.errors import ApiError
from api.imports.columns import COLUMNS, header_key, headers
from api.imports.parse import read_sheet
from api.imports.report import report_csv, template_csv, template_xlsx
from api.imports.rows import Refusal, checked, group
from api.imports.words import message
from api.orders.schemas import OrderCreate
from db.imports.models import OrderImportRow

ZONE = ZoneInfo("Asia/Shanghai")
EN = ["order_id", "customer_id", "customer_name", "sku", "qty", "address",
      "promised_ship_by", "promised_delivery_by"]
ZH = ["订单号", "客户编号", "客户名称", "商品编码", "数量", "收货地址", "承诺发货时间",
      "承诺送达时间"]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def row(order_id: str, sku: str = "SKU-1", qty: str = "2", ship: str = "2026-12-01 10:00",
        deliver: str = "2026-12-03 18:00") -> list[str]:
    return [order_id, "C-1", "客户甲", sku, qty, "上海市浦东新区世纪大道 88 号", ship, deliver]


def orders_of(data: bytes) -> list[OrderCreate | Refusal]:
    return [checked(d, ZONE) for d in group(read_sheet(data, 100).rows)]


def refused(data: bytes, status: int, code: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        read_sheet(data, 3)
    assert (caught.value.status, caught.value.code) == (status, code)
    return caught.value


def test_both_header_languages_name_the_same_columns() -> None:
    assert [header_key(h) for h in headers("zh-CN")] == [c.key for c in COLUMNS]
    assert [header_key(h) for h in headers("en")] == [c.key for c in COLUMNS]
    assert header_key(" Order_ID ") == "order_id"
    assert header_key("申报价值（分）") == "declared_value_minor"  # full-width brackets
    assert header_key("订单编号X") is None


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gbk", False)])
def test_csv_in_utf8_with_or_without_bom_and_gbk_read_the_same(encoding: str,
                                                                  bom: bool) -> None:
    data = csv_bytes(ZH, [row("SO-1")], encoding)
    sheet = read_sheet(b"\xef\xbb\xbf" + data if bom else data, 10)
    assert sheet.columns == EN
    assert sheet.rows[0].cells["customer_name"] == "客户甲"
    assert sheet.rows[0].number == 2


def test_multi_line_orders_are_grouped_and_times_read_in_the_business_zone() -> None:
    data = csv_bytes(EN, [row("SO-1"), row("SO-2"), row("SO-1", sku="SKU-2", qty="5"),
                          ["", "", "", "", "", "", "", ""]])
    first, second = orders_of(data)
    assert isinstance(first, OrderCreate) and isinstance(second, OrderCreate)
    assert [(line.sku, line.qty) for line in first.lines] == [("SKU-1", 2), ("SKU-2", 5)]
    assert first.promised_ship_by.isoformat() == "2026-12-01T02:00:00+00:00"  # 10:00 Shanghai


def test_xlsx_reads_like_csv_with_date_cells() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(ZH)
    from datetime import datetime
    sheet.append(["SO-9", "C-1", "客户甲", "SKU-1", 3, "地址", datetime(2026, 12, 1, 10),
                  datetime(2026, 12, 3, 18)])
    out = io.BytesIO()
    book.save(out)
    parsed = read_sheet(out.getvalue(), 10)
    assert parsed.format == "xlsx"
    (order,) = [checked(d, ZONE) for d in group(parsed.rows)]
    assert isinstance(order, OrderCreate) and order.lines[0].qty == 3


def test_each_bad_row_is_refused_with_its_column_row_and_the_apis_rule() -> None:
    data = csv_bytes(EN, [
        row("SO-1", qty="0"),                                  # row 2: qty at least 1
        row("SO-2", deliver="2026-11-30 10:00"),               # row 3: delivery before ship
        row("bad id!"),                                        # row 4: order id pattern
        row("SO-4"), row("SO-4", sku="SKU-1"),                 # rows 5-6: the same SKU twice
        row("SO-5"), row("SO-5", sku="SKU-2", ship="2026-12-02 10:00"),  # rows 7-8 disagree
        row("SO-6", ship="tomorrow"),                          # row 9: not a time
    ])
    outcomes = orders_of(data)
    assert all(isinstance(o, Refusal) for o in outcomes)
    got = [(o.code, o.details.get("column"), o.details.get("row"), o.details.get("type"))
           for o in outcomes if isinstance(o, Refusal)]
    assert got == [
        ("validation_error", "qty", 2, "greater_than_equal"),
        ("validation_error", "promised_delivery_by", 3, "value_error"),
        ("validation_error", "order_id", 4, "string_pattern_mismatch"),
        ("validation_error", "sku", 5, "duplicate_sku"),
        ("rows_disagree", "promised_ship_by", 8, None),
        ("validation_error", "promised_ship_by", 9, "datetime_from_date_parsing"),
    ]
    words = [message(o.code, o.message, o.details, "zh-CN") for o in outcomes
             if isinstance(o, Refusal)]
    assert words[0] == "数量（第 2 行）：不能小于 1"
    assert "不能早于" in words[1] and "不一致" in words[4]
    assert outcomes[0].message.startswith("column qty (row 2): ")  # type: ignore[union-attr]


def test_whole_file_refusals() -> None:
    refused(b"", 422, "empty_file")
    refused(b"\xd0\xcf\x11\xe0rest-of-an-xls", 415, "unsupported_import_format")
    refused(b"PK\x03\x04not really a zip", 415, "unsupported_import_format")
    unknown = refused(csv_bytes([*EN, "colour"], [row("SO-1") + ["red"]]), 422,
                      "unknown_columns")
    assert unknown.details["unknown"] == ["colour"]
    missing = refused(csv_bytes(EN[:-1], [row("SO-1")[:-1]]), 422, "missing_columns")
    assert missing.details["missing"] == ["promised_delivery_by"]
    refused(csv_bytes([*EN, "订单号"], [row("SO-1") + ["x"]]), 422, "duplicate_columns")
    refused(csv_bytes(EN, []), 422, "no_rows")
    refused(csv_bytes(EN, [row(f"SO-{i}") for i in range(4)]), 413, "too_many_rows")
    refused(csv_bytes(EN, [row("SO-1", sku="x" * 1001)]), 422, "cell_too_long")
    refused(csv_bytes(EN, [row("SO-1") + ["extra"]]), 422, "cell_without_header")
    refused(b"\xff\xfe\x00\x00" + b"\x81" * 10, 422, "unreadable_encoding")


def test_templates_read_back_as_one_valid_two_line_order() -> None:
    for data in (template_csv("zh-CN"), template_csv("en"), template_xlsx("zh-CN"),
                 template_xlsx("en")):
        (order,) = orders_of(data)
        assert isinstance(order, OrderCreate), order
        assert [line.sku for line in order.lines] == ["SKU-1", "SKU-2"]
    assert template_csv("zh-CN").startswith(b"\xef\xbb\xbf\xe8\xae\xa2")  # BOM, then 订


def test_report_words_outcomes_in_either_language_and_defuses_formulas() -> None:
    rows = [OrderImportRow(seq=0, row=2, order_id="SO-1", outcome="created"),
            OrderImportRow(seq=1, row=3, order_id="=HYPERLINK(1)", outcome="refused",
                           code="order_exists", message="order x exists with a different body",
                           details={"row": 3})]
    zh = report_csv(rows, "zh-CN").decode("utf-8-sig").splitlines()
    assert zh[0] == "行号,订单号,结果,错误代码,说明"
    assert zh[1] == "2,SO-1,已创建,,"
    assert zh[2] == "3,'=HYPERLINK(1),被拒绝,order_exists,第 3 行：订单号已存在，且内容与本行不同"
    en = report_csv(rows, "en").decode("utf-8-sig").splitlines()
    assert en[2].endswith("refused,order_exists,order x exists with a different body")
