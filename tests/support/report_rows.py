"""Reading what the console's reports show: a table row's cells, the CSV and XLSX downloads."""

from __future__ import annotations

import csv
import io
import re

import openpyxl

from api.i18n import LOCALES
from console.i18n import catalogue

# A console download names its columns in the page's language (console/kpis/routes.py
# column_names); read back, each header is its column's code again, whatever the language.
_CODES = {words[key]: key.removeprefix("download.col.") for words in map(catalogue, LOCALES)
          for key in words if key.startswith("download.col.")}


def header_codes(header: list[str]) -> list[str]:
    return [_CODES.get(h, h) for h in header]


def row(html: str, attr: str, value: str) -> list[str]:
    """The cells of the table row marked data-<attr>="value", as text."""
    match = re.search(rf'<tr data-{attr}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attr}={value}"
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


def csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheet programs need for Chinese
    head, *rest = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return [dict(zip(header_codes(head), r, strict=True)) for r in rest]


def xlsx_rows(body: bytes) -> list[dict[str, str]]:
    """The sheet's rows with every cell as the CSV writes it, so the two can be compared."""
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
    head, *rest = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [{h: "" if c is None else str(c) for h, c in zip(header_codes(head), r, strict=True)}
            for r in rest]


def same(r: dict[str, str]) -> dict[str, object]:
    """A row with its numbers as numbers: a sheet keeps a rate of 1.0 as the number 1."""
    def value(cell: str) -> object:
        try:
            return float(cell)
        except ValueError:
            return cell
    return {k: value(c) for k, c in r.items()}
