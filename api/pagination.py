"""Keyset pagination cursors: opaque to callers, (created_at, id) inside."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from api.errors import ApiError

T = TypeVar("T")


def encode_cursor(created_at: datetime, key: str) -> str:
    raw = json.dumps([created_at.isoformat(), key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


MAX_CURSOR_CHARS = 512


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) inside a cursor; 422 `invalid_cursor` for anything this API did not
    hand out (a crafted one may be deeply nested JSON, a naive time, or a huge string)."""
    invalid = ApiError(422, "invalid_cursor", "the cursor is not one this API returned")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, key = json.loads(raw)
        if not isinstance(created, str) or not isinstance(key, str):
            raise invalid
        at = datetime.fromisoformat(created)
    except (ValueError, TypeError, RecursionError) as exc:
        raise invalid from exc
    if at.tzinfo is None:  # every time we hand out carries its zone
        raise invalid
    return at, key


def keyset_page(rows: list[T], limit: int,
                key: Callable[[T], tuple[datetime, str]]) -> tuple[list[T], str | None]:
    """The page of `rows` (fetched as limit + 1, so one more means there is a next page) and
    the cursor after its last row, None on the last page."""
    page = rows[:limit]
    return page, encode_cursor(*key(page[-1])) if len(rows) > limit else None
