"""Keyset pagination cursors: opaque to callers, (created_at, id) inside."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from api.errors import ApiError


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
