"""The tracking lookup's rules (issue 19 §2): what a well-formed query is, which order it
finds, and how often one may ask.

A query is a tracking number and the last four digits of the consignee's phone (the
destination's phone, else the customer's: view.contact_phone). Both are bounded before anything
is read. A query that matches no order, whichever of the two was wrong, gets one and the same
answer: the page is no oracle for which tracking numbers exist.

Every well-formed or malformed attempt counts against the client address, and every
well-formed one against its tracking number too, `per_minute` each in a sliding minute;
guessing the four digits of one number from many addresses is then as slow as from one. The
windows are in memory, per process (like the failed-key limit, api/edge/auth_failures.py):
a restart forgets them, several API processes each allow the limit.
"""

from __future__ import annotations

import hmac
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from api.tracking.view import contact_phone
from db.orders.models import Order

MAX_TRACKING_NO = 40  # longer than any carrier's number (SF: 12-15, EMS: 13, JD: 15)
_TRACKING_NO = re.compile(rf"[A-Za-z0-9-]{{4,{MAX_TRACKING_NO}}}")
_PHONE_TAIL = re.compile(r"[0-9]{4}")
WINDOW_SECONDS = 60.0
_MAX_KEYS = 10_000  # bound each table: the oldest keys go first


@dataclass(frozen=True)
class Query:
    """The lookup form as sent (kept to show it again) and what is wrong with it."""

    tracking_no: str
    phone_tail: str
    errors: tuple[str, ...] = ()  # the fields that are not well formed

    @property
    def spellings(self) -> list[str]:
        """The tracking numbers to look for: as typed, and upper-cased (numbers are printed in
        capitals, people type them in either)."""
        return sorted({self.tracking_no, self.tracking_no.upper()})


def parse_query(tracking_no: str | None, phone_tail: str | None) -> Query:
    number = (tracking_no or "")[:MAX_TRACKING_NO * 2].strip().replace(" ", "")
    tail = (phone_tail or "")[:16].strip()
    errors = tuple(name for name, value, form in (
        ("tracking_no", number, _TRACKING_NO), ("phone_tail", tail, _PHONE_TAIL))
        if not form.fullmatch(value))
    return Query(tracking_no=number[:MAX_TRACKING_NO], phone_tail=tail[:4], errors=errors)


def matching_order(orders: Sequence[Order], phone_tail: str) -> Order | None:
    """The first (newest) order whose contact phone ends in `phone_tail`; each is compared in
    constant time, and every one is compared, so the answer's timing says nothing either."""
    found = None
    for order in orders:
        digits = contact_phone(order)
        same = len(digits) >= 4 and hmac.compare_digest(digits[-4:], phone_tail)
        if same and found is None:
            found = order
    return found


class Attempts:
    """A sliding minute of attempt times per key (thread-safe)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def take(self, *keys: str) -> int | None:
        """Count one attempt under every key and return None; or, when any key has used its
        minute already, count nothing and return the seconds until it may try again."""
        with self._lock:
            now = self._clock()
            windows = [self._recent(key, now) for key in keys]
            waits = [math.ceil(times[len(times) - self.per_minute] + WINDOW_SECONDS - now)
                     for times in windows if len(times) >= self.per_minute]
            if waits:
                return max(1, *waits)
            for key, times in zip(keys, windows, strict=True):
                if key not in self._seen:
                    if len(self._seen) >= _MAX_KEYS:
                        self._seen.pop(next(iter(self._seen)))
                    self._seen[key] = times
                times.append(now)
            return None

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._seen.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        return times
