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


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, key = json.loads(raw)
        return datetime.fromisoformat(created), str(key)
    except (ValueError, TypeError) as exc:
        raise ApiError(422, "invalid_cursor", "the cursor is not one this API returned") from exc


def keyset_page(rows: list[T], limit: int,
                key: Callable[[T], tuple[datetime, str]]) -> tuple[list[T], str | None]:
    """The page of `rows` (fetched as limit + 1, so one more means there is a next page) and
    the cursor after its last row, None on the last page."""
    page = rows[:limit]
    return page, encode_cursor(*key(page[-1])) if len(rows) > limit else None
