"""How many rows an INSERT, UPDATE or DELETE touched: how idempotent writes tell who won."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The row count of a DML statement's result.

    `Session.execute` is typed as returning a plain `Result`, since not every statement gives a
    cursor (sqlalchemy#12913); a DML statement without RETURNING does give one, a `CursorResult`,
    which carries the count. Anything else is a caller's mistake, so it raises.
    """
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count on {type(result).__name__}: not a DML statement's result")
    return result.rowcount
