"""A table as a downloaded CSV or XLSX file: the API's KPI exports and the console's alike."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from kpis.export import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx


def table_download(columns: list[str], rows: list[dict[str, Any]], fmt: str, name: str,
                   sheet: str, headers: dict[str, str],
                   header: list[str] | None = None) -> Response:
    """A table as the file `name.fmt` (csv or xlsx); `header` names its columns in the
    reader's language (the console's downloads), else the codes are the header (the API's)."""
    headers = {**headers, "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
               "X-Content-Type-Options": "nosniff"}
    if fmt == "csv":
        return Response(to_csv(columns, rows, header), media_type=f"{CSV_TYPE}; charset=utf-8",
                        headers=headers)
    return Response(to_xlsx(columns, rows, sheet, header), media_type=XLSX_TYPE, headers=headers)
