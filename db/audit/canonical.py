"""The canonical content of an audited row and the hashes of the chain: a format, so pure and
stable (an export is verified offline with the README's script from these rules).

* Content: the row's meaning columns (`MEANING`: every column but the surrogate `id`, which
  the database assigns and no reader relies on) as JSON with sorted keys, no spaces, UTF-8
  text unescaped; times in UTC with microseconds (`2026-12-05T07:01:37.000000Z`); JSON columns
  as stored. Its hash is the SHA-256 of that text.
* Natural key: the table's unique key (`KEYS`) as a JSON array, e.g. `["SO-1","evt-9"]`.
* Link hash: SHA-256 of the JSON array `[chain, seq, table, key, content_hash, prev_hash]`
  (same JSON rules); the first link's predecessor is `GENESIS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

ORDER_EVENTS = "order_events"
ESCALATION_EVENTS = "escalation_events"
CLAIM_EVENTS = "claim_events"
COMPLAINT_EVENTS = "complaint_events"
DOCUMENTS = "documents"

KEYS: dict[str, tuple[str, ...]] = {
    ORDER_EVENTS: ("order_id", "event_id"),
    ESCALATION_EVENTS: ("escalation_id", "seq"),
    CLAIM_EVENTS: ("claim_id", "seq"),
    COMPLAINT_EVENTS: ("complaint_id", "event_id"),
    DOCUMENTS: ("sha256",),
}

MEANING: dict[str, tuple[str, ...]] = {
    ORDER_EVENTS: ("order_id", "event_id", "type", "occurred_at", "recorded_at", "actor",
                   "source", "data", "body_hash"),
    ESCALATION_EVENTS: ("escalation_id", "seq", "at", "action", "level", "actor", "comment",
                        "detail"),
    CLAIM_EVENTS: ("claim_id", "seq", "event_id", "type", "at", "occurred_at", "actor",
                   "source", "data", "body_hash"),
    COMPLAINT_EVENTS: ("complaint_id", "event_id", "type", "occurred_at", "recorded_at",
                       "actor", "source", "data", "body_hash"),
    DOCUMENTS: ("sha256", "content_type", "size", "created_at", "created_by"),
}


def complaint_chain(order_id: str | None, complaint_id: str) -> str:
    """The chain a complaint's rows go to: its order's, else its own."""
    return order_id or f"complaint:{complaint_id}"


def escalation_chain(order_id: str, subject: str) -> str:
    """The chain an escalation's steps go to: its order's, else its subject's
    (`complaint:<id>`, the same chain as the complaint's)."""
    return order_id or subject


def utc_text(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands back naive UTC through a bare select
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    return utc_text(value) if isinstance(value, datetime) else value


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_plain)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def content(table: str, row: Mapping[str, Any]) -> str:
    """The canonical text of `row` (a mapping with at least the table's meaning columns)."""
    return dumps({col: _plain(row[col]) for col in MEANING[table]})


def row_key(table: str, row: Mapping[str, Any]) -> str:
    return dumps([row[col] for col in KEYS[table]])


def link_hash(chain: str, seq: int, table: str, key: str, content_hash: str,
              prev_hash: str) -> str:
    return sha256(dumps([chain, seq, table, key, content_hash, prev_hash]))


def loads_key(key: str) -> list[Any]:
    """A natural key back from its JSON text."""
    parsed: list[Any] = json.loads(key)
    return parsed
