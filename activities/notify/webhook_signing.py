"""Webhook signatures, Standard Webhooks 1.0 (https://www.standardwebhooks.com/).

Every delivery carries three headers:

* `webhook-id`: the outbox row id, the same on every attempt and redelivery of one message:
  receivers de-duplicate on it;
* `webhook-timestamp`: unix seconds of this attempt;
* `webhook-signature`: space-separated `v1,<base64 HMAC-SHA256>` entries over
  `f"{webhook-id}.{webhook-timestamp}.{raw body}"`, one per secret in use (two while a rotated
  secret's overlap window lasts); any match is enough.

The HMAC key is the base64-decoded part of a `whsec_<base64>` secret. Secrets made before
Standard Webhooks used URL-safe base64 (`-` and `_`); `secret_key` decodes both alphabets, and
so does the README's snippet (a library that only knows standard base64 needs a rotated secret).

For one release the old headers are sent too: `Waybill-Delivery` (= `webhook-id`) and
`Waybill-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256 keyed with the whole secret string
over f"{t}.{raw body}">`). Standard library only, so `verify` can be copied.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
EVENT_HEADER = "Waybill-Event"
LEGACY_DELIVERY_HEADER = "Waybill-Delivery"  # deprecated: use webhook-id
LEGACY_SIGNATURE_HEADER = "Waybill-Signature"  # deprecated: use webhook-signature
SECRET_PREFIX = "whsec_"
SCHEME = "v1"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_` secret (standard or URL-safe base64, padded or not)."""
    encoded = secret.removeprefix(SECRET_PREFIX).translate(str.maketrans("-_", "+/"))
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` entry of the `webhook-signature` header."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return f"{SCHEME},{base64.b64encode(digest).decode()}"


def sign_headers(secrets_in_use: list[str], msg_id: str, body: bytes,
                 timestamp: int | None = None) -> dict[str, str]:
    """The signing headers of one attempt: the Standard Webhooks ones and the legacy ones."""
    t = int(time.time()) if timestamp is None else timestamp
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(t),
        SIGNATURE_HEADER: " ".join(signature(s, msg_id, t, body) for s in secrets_in_use),
        LEGACY_DELIVERY_HEADER: msg_id,
        LEGACY_SIGNATURE_HEADER: f"t={t}," + ",".join(
            f"{SCHEME}={legacy_signature(s, t, body)}" for s in secrets_in_use),
    }


def legacy_signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, tolerance_seconds: int = 300,
           now: float | None = None) -> bool:
    """True if `headers` sign `body` with `secret` and the timestamp is within tolerance.

    Args:
        secret: the subscription's secret (`whsec_...`).
        headers: the request's headers (any mapping; names are matched case-insensitively).
        body: the raw request body, byte for byte, before any JSON parsing.
        tolerance_seconds: how far `webhook-timestamp` may be from `now`, either way; this is
            what stops a captured request from being replayed later.
        now: the current unix time (for tests); defaults to time.time().
    """
    found = {name.lower(): value for name, value in headers.items()}
    msg_id, timestamp = found.get(ID_HEADER, ""), found.get(TIMESTAMP_HEADER, "")
    if not msg_id or not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    try:
        expected = signature(secret, msg_id, int(timestamp), body)
    except (binascii.Error, ValueError):
        return False
    return any(hmac.compare_digest(expected.encode(), entry.encode())
               for entry in found.get(SIGNATURE_HEADER, "").split())
