"""How a workflow's update validator refuses an event: a typed, non-retryable ApplicationError.

The type is the machine-readable code the API answers with; HTTP_STATUS below is the one table
of each code's status (api/events/rejections.py reads it), so a new code is added here and only
here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

# A refusal names at most this many offending values per detail, and how many there were:
# 50,000 unknown SKUs are not echoed back (nor stored in the update's failure).
ECHO_MAX = 10

# Every code a workflow refuses with, and the HTTP status the API answers it with. Plain ints:
# this module stays framework-free (workflows import no HTTP library).
HTTP_STATUS: dict[str, int] = {
    # The case is not in a state that takes this request (now, or any more).
    "invalid_transition": 409,
    "event_id_reused": 409,
    # The event endpoints answer this one as a duplicate instead (api/events/idempotency.py).
    "duplicate_event": 409,
    "decision_not_pending": 409,
    "decision_pending": 409,
    "receipt_unchanged": 409,
    "already_acknowledged": 409,
    "already_resolved": 409,
    # Resolving an escalation whose step is still not done needs `waive` and a reason.
    "condition_still_holds": 409,
    # The request is wrong in itself.
    "unknown_sku": 422,
    "invalid_promise": 422,
    "invalid_quantity": 422,
    "occurred_before_order": 422,
    "invalid_event": 422,
    "currency_mismatch": 422,
    "compensation_above_cap": 422,
    "compensation_basis_required": 422,
    "override_reason_required": 422,
    "snooze_in_past": 422,
    "snooze_too_long": 422,
    "unknown_department": 422,
    "waiver_reason_required": 422,
    # Only a supervisor may do this (the permission table lets the caller post the event).
    "override_forbidden": 403,
    "basis_change_forbidden": 403,
}


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
    """The refusal `code` (a key of HTTP_STATUS) with its message and details."""
    return ApplicationError(message, few(details), type=code, non_retryable=True)


def refuse_before(occurred_at: datetime, received_at: datetime, skew_seconds: float) -> None:
    """Refuse an event dated before its order was received (beyond the clocks' skew):
    `occurred_before_order`. One rule for the workflow's validator and the API."""
    if occurred_at < received_at - timedelta(seconds=skew_seconds):
        raise reject("occurred_before_order", "the event is dated before its order was received",
                     occurred_at=occurred_at.isoformat(), received_at=received_at.isoformat(),
                     tolerance_seconds=skew_seconds)


# What a run that continues as new remembers of each event it applied: the start of the body
# hash. 64 bits of the SHA-256 tell another body under a known id apart but for a chance of
# one in 1.8e19, for a quarter of the bytes (the resume is the first event of every run).
HASH_CHARS = 16


def remembered(event_hashes: dict[str, str]) -> dict[str, str]:
    """The event ids a case applied, for the run it continues as new with (workflows/case.py)."""
    return {event_id: digest[:HASH_CHARS] for event_id, digest in event_hashes.items()}


def refuse_repeat(known_hash: str | None, event_id: str, body_hash: str | None) -> None:
    """Refuse an event id already applied: `duplicate_event` for the same body (the API answers
    it as a duplicate), `event_id_reused` for another. `known_hash` is None for a new id, and
    the start of the hash only for an event a run before this one applied (`remembered`)."""
    if known_hash is None:
        return
    same = known_hash == body_hash or (  # whole hashes, or the remembered start of one
        len(known_hash) == HASH_CHARS and (body_hash or "").startswith(known_hash))
    if not same:
        raise reject("event_id_reused", "event_id was already used for another event",
                     event_id=event_id)
    raise reject("duplicate_event", "event already applied", event_id=event_id)
