"""How a workflow's update validator refuses an event: a typed, non-retryable ApplicationError.

The API maps the type (the machine-readable code) to an HTTP status (api/rejections.py).
"""

from __future__ import annotations

from typing import Any

from temporalio.exceptions import ApplicationError


def reject(code: str, message: str, **details: Any) -> ApplicationError:
    return ApplicationError(message, details, type=code, non_retryable=True)


def refuse_repeat(known_hash: str | None, event_id: str, body_hash: str | None) -> None:
    """Refuse an event id already applied: `duplicate_event` for the same body (the API answers
    it as a duplicate), `event_id_reused` for another. `known_hash` is None for a new id."""
    if known_hash is None:
        return
    if known_hash != body_hash:
        raise reject("event_id_reused", "event_id was already used for another event",
                     event_id=event_id)
    raise reject("duplicate_event", "event already applied", event_id=event_id)
