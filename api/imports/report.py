"""The downloadable files: the empty template (CSV or XLSX, headers in either language, one
example order of two lines) and an import's per-order report (CSV with a BOM, so Excel opens
the Chinese text as UTF-8)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from api.imports.columns import COLUMNS, headers
from api.imports.words import message, outcome_word
from db.imports.models import OrderImportRow

_REPORT_HEADERS = {
    "en": ["row", "order_id", "outcome", "code", "message"],
    "zh-CN": ["行号", "订单号", "结果", "错误代码", "说明"],
}


def _example_rows() -> list[list[str]]:
    first = [c.example for c in COLUMNS]
    second = [("SKU-2" if c.key == "sku" else "3" if c.key == "qty" else
               c.example if c.key == "order_id" else "") for c in COLUMNS]
    return [first, second]


def template_csv(lang: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers(lang))
    writer.writerows(_example_rows())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx(lang: str) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "orders" if lang != "zh-CN" else "订单"
    sheet.append(headers(lang))
    for row in _example_rows():
        sheet.append(row)
    for index, column in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.key) + 2)
        for cell in sheet[letter]:
            cell.number_format = "@"  # text: Excel keeps SKUs, ids and phones as written
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet would run as a formula (text the uploaded file held, echoed back)
    is kept as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def report_csv(rows: Sequence[OrderImportRow], lang: str) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(_REPORT_HEADERS["zh-CN" if lang == "zh-CN" else "en"])
    for row in rows:
        writer.writerow([row.row, _safe(row.order_id), outcome_word(row.outcome, lang),
                         row.code or "", message(row.code, row.message, row.details, lang)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
