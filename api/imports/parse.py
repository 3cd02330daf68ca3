"""Reading an import file (CSV or XLSX) into numbered rows of text keyed by column.

The whole file is checked here before anything is stored: its format, its encoding, its header
row, and its bounds (rows, columns, cell length). A refusal is a 4xx ApiError with its own code.
The same function reads the archived file again in the background, so both see the same rows.

CSV: UTF-8 with or without a BOM; otherwise GB18030 (a superset of GBK, what Excel on a
Chinese Windows saves "CSV" as). XLSX: the first worksheet. Legacy .xls is refused.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from api.errors import ApiError
from api.imports.columns import COLUMNS, header_key

MAX_COLUMNS = 60
MAX_CELL_CHARS = 1000
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class Row:
    number: int  # the row's number in the file as a spreadsheet shows it (the header is 1)
    cells: dict[str, str]  # column key -> text, blanks left out


@dataclass(frozen=True)
class Sheet:
    format: str  # "csv" or "xlsx"
    columns: list[str]  # the column keys, in the file's order
    rows: list[Row]


def file_format(data: bytes) -> str:
    """"xlsx" or "csv" by the file's first bytes (never by its name or claimed type)."""
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if data.startswith(_XLS_MAGIC):
        raise ApiError(415, "unsupported_import_format",
                       "legacy .xls is not read: save the sheet as .xlsx or CSV",
                       allowed=["csv", "xlsx"])
    return "csv"


def read_sheet(data: bytes, max_rows: int) -> Sheet:
    """The file's rows, or a 4xx ApiError saying what is wrong with the file as a whole."""
    if not data.strip():
        raise ApiError(422, "empty_file", "the uploaded file is empty")
    fmt = file_format(data)
    raw = _xlsx_rows(data, max_rows) if fmt == "xlsx" else _csv_rows(data, max_rows)
    header: list[str] | None = None
    rows: list[Row] = []
    for number, values in raw:
        if header is None:
            if any(values):
                header = values
                columns = _columns(header)
            continue
        if not any(v.strip() for v in values):
            continue  # blank rows are skipped, keeping the others' numbers
        if len(rows) >= max_rows:
            raise ApiError(413, "too_many_rows", f"the file has more than {max_rows} rows",
                           max_rows=max_rows)
        cells: dict[str, str] = {}
        for key, value in zip(columns, values, strict=False):
            if len(value) > MAX_CELL_CHARS:
                raise ApiError(422, "cell_too_long",
                               f"row {number}, column {key}: more than {MAX_CELL_CHARS} "
                               "characters", row=number, column=key,
                               max_chars=MAX_CELL_CHARS)
            if value.strip():
                cells[key] = value.strip()
        extra = [v for v in values[len(columns):] if v.strip()]
        if extra:
            raise ApiError(422, "cell_without_header",
                           f"row {number} has values beyond the header's columns", row=number)
        rows.append(Row(number, cells))
    if header is None or not rows:
        raise ApiError(422, "no_rows", "the file has no header row or no order rows")
    return Sheet(fmt, columns, rows)


def _columns(header: list[str]) -> list[str]:
    if len(header) > MAX_COLUMNS:
        raise ApiError(422, "too_many_columns", f"more than {MAX_COLUMNS} columns",
                       max_columns=MAX_COLUMNS)
    while header and not header[-1].strip():
        header = header[:-1]
    keys = [header_key(h) for h in header]
    unknown = [h for h, k in zip(header, keys, strict=True) if k is None]
    if unknown:
        raise ApiError(422, "unknown_columns",
                       "unknown column headers: " + ", ".join(h[:40] for h in unknown[:10]),
                       unknown=[h[:40] for h in unknown[:20]],
                       known=[c.key for c in COLUMNS])
    found = [k for k in keys if k is not None]
    doubled = sorted({k for k in found if found.count(k) > 1})
    if doubled:
        raise ApiError(422, "duplicate_columns", "columns given twice: " + ", ".join(doubled),
                       columns=doubled)
    missing = [c.key for c in COLUMNS if c.required and c.key not in found]
    if missing:
        raise ApiError(422, "missing_columns", "missing columns: " + ", ".join(missing),
                       missing=missing)
    return found


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ApiError(422, "unreadable_encoding",
                       "the CSV file is neither UTF-8 nor GBK/GB18030 text",
                       allowed=["utf-8", "gbk"]) from None


def _csv_rows(data: bytes, max_rows: int) -> list[tuple[int, list[str]]]:
    text = _decode(data)
    if "\x00" in text:
        raise ApiError(415, "unsupported_import_format", "the file is not CSV or XLSX text",
                       allowed=["csv", "xlsx"])
    out: list[tuple[int, list[str]]] = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            out.append((number, values))
            if len(out) > max_rows + 1000:  # room for blank rows; the real count is checked
                break
    except csv.Error as exc:
        raise ApiError(422, "invalid_csv", f"the CSV file cannot be read: {exc}") from None
    return out


def _xlsx_rows(data: bytes, max_rows: int) -> list[tuple[int, list[str]]]:
    import openpyxl  # only an upload needs it: not every process pays for the import

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ApiError(415, "unsupported_import_format",
                       f"the file is not a readable XLSX workbook ({type(exc).__name__})",
                       allowed=["csv", "xlsx"]) from None
    try:
        sheet = book.worksheets[0]
        out: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if len(values) > MAX_COLUMNS:
                values = values[:MAX_COLUMNS + 1]
            out.append((number, [_cell_text(v) for v in values]))
            if len(out) > max_rows + 1000:
                break
        return out
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    """A cell as the text a CSV would carry: dates in ISO form (no zone: the business zone
    applies later), whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
