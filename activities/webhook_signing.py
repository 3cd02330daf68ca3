"""Webhook signatures, Stripe-style: `Waybill-Signature: t=<unix seconds>,v1=<hex>`.

`v1` is HMAC-SHA256 keyed with the subscription's secret over `f"{t}.{raw_body}"`. A receiver
recomputes it over the raw request body (before any JSON parsing) and rejects a timestamp
outside its tolerance, which is what stops replays. Several `v1=` values may appear (e.g.
while a secret is rotated); any match is enough. Standard library only, so it can be copied.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Waybill-Signature"
DELIVERY_HEADER = "Waybill-Delivery"
EVENT_HEADER = "Waybill-Event"
SCHEME = "v1"


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The `Waybill-Signature` header value for `body`, signed now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},{SCHEME}={compute_signature(secret, t, body)}"


def verify_signature(secret: str, header: str | None, body: bytes,
                     tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """True if `header` signs `body` with `secret` and its timestamp is within tolerance.

    Args:
        secret: the subscription's secret (`whsec_...`).
        header: the `Waybill-Signature` header as received.
        body: the raw request body, byte for byte.
        tolerance_seconds: how far the timestamp may be from `now`, either way.
        now: the current unix time (for tests); defaults to time.time().
    """
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == SCHEME:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = compute_signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
