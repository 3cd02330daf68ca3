"""Failed authentication: one structured log line per failure, and a per-address limit.

Every failed attempt (no key, unknown, revoked or expired key, a console sign-in with a bad key)
is logged with the client address, the reason and at most the first 6 characters of the key
(`wb_` and 3 more: enough to tell keys apart in a report, useless for guessing one). An address
with `auth_failures_per_minute` failures in the last 60 s gets 429 `too_many_auth_failures`
with `Retry-After` for any key, answered before the key lookup, so guessing costs the
database nothing.

The window is in memory, per process (one per app, on `app.state`): a restart forgets it, and
several API processes each allow the limit. The address is the TCP peer's: `X-Forwarded-For`
is not trusted, since any client can send it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("waybill.auth")
WINDOW_SECONDS = 60.0
KEY_HINT_CHARS = 6
_MAX_ADDRESSES = 10_000  # bound the table itself: the oldest addresses go first


def key_hint(key: str | None) -> str | None:
    """At most the first 6 characters of a presented key; never the key."""
    return key[:KEY_HINT_CHARS] if key else None


class AuthFailures:
    """A sliding window of failure times per client address (thread-safe: the auth dependency
    runs in the thread pool)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        times = self._seen.get(address)
        if times is None:
            return deque()
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        if not times:
            del self._seen[address]
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None if it is under the limit."""
        with self._lock:
            now = self._clock()
            times = self._recent(address, now)
            if len(times) < self.per_minute:
                return None
            # The window frees a slot when the oldest failure still counted leaves it.
            oldest = times[len(times) - self.per_minute]
            return max(1, math.ceil(oldest + WINDOW_SECONDS - now))

    def record(self, address: str, reason: str, key: str | None, via: str) -> None:
        """Count a failure and log it (never the key: at most its first 6 characters)."""
        with self._lock:
            now = self._clock()
            times = self._recent(address, now)
            if not times:
                if len(self._seen) >= _MAX_ADDRESSES:
                    self._seen.pop(next(iter(self._seen)))
                self._seen[address] = times
            times.append(now)
            count = len(times)
        log.warning("authentication failed", extra={
            "client": address, "reason": reason, "key_prefix": key_hint(key), "via": via,
            "failures_last_minute": count})
