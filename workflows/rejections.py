"""How a workflow's update validator refuses an event: a typed, non-retryable ApplicationError.

The API maps the type (the machine-readable code) to an HTTP status (api/rejections.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

# A refusal names at most this many offending values per detail, and how many there were:
# 50,000 unknown SKUs are not echoed back (nor stored in the update's failure).
ECHO_MAX = 10


def few(details: dict[str, Any]) -> dict[str, Any]:
    """`details` with every list cut to ECHO_MAX values plus `<name>_count`."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if isinstance(value, list | tuple) and len(value) > ECHO_MAX:
            out[key], out[f"{key}_count"] = list(value[:ECHO_MAX]), len(value)
        else:
            out[key] = value
    return out


def reject(code: str, message: str, **details: Any) -> ApplicationError:
    return ApplicationError(message, few(details), type=code, non_retryable=True)


def refuse_before(occurred_at: datetime, received_at: datetime, skew_seconds: float) -> None:
    """Refuse an event dated before its order was received (beyond the clocks' skew):
    `occurred_before_order`. One rule for the workflow's validator and the API."""
    if occurred_at < received_at - timedelta(seconds=skew_seconds):
        raise reject("occurred_before_order", "the event is dated before its order was received",
                     occurred_at=occurred_at.isoformat(), received_at=received_at.isoformat(),
                     tolerance_seconds=skew_seconds)


def refuse_repeat(known_hash: str | None, event_id: str, body_hash: str | None) -> None:
    """Refuse an event id already applied: `duplicate_event` for the same body (the API answers
    it as a duplicate), `event_id_reused` for another. `known_hash` is None for a new id."""
    if known_hash is None:
        return
    if known_hash != body_hash:
        raise reject("event_id_reused", "event_id was already used for another event",
                     event_id=event_id)
    raise reject("duplicate_event", "event already applied", event_id=event_id)
