"""The soak's HTTP client: every request recorded, writes retried with the same body.

The retry contract a client of Waybill follows: a write that got no answer, a 5xx or a timeout is
sent again, unchanged (same `event_id`, same order body, same receipt bytes), honouring
`Retry-After`, until it is answered 2xx or 4xx, or the client's own deadline passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

BACKOFF_START, BACKOFF_MAX, RETRY_AFTER_MAX = 0.5, 4.0, 10.0


@dataclass(frozen=True)
class Record:
    """One HTTP exchange as the client saw it; times are time.monotonic()."""

    start: float
    end: float
    endpoint: str  # e.g. "POST /v1/orders/{id}/events"
    path: str
    status: int | None  # None: no answer (connection refused, reset, timeout)
    error: str | None  # the transport error's class name when there was no answer
    content_type: str | None
    retry_after: bool
    json_body: bool  # the body parsed as JSON (what a 5xx must be: the error envelope)

    @property
    def latency(self) -> float:
        return self.end - self.start


class Outcome:
    """What a retried write came to: the final answer, or None at the deadline."""

    def __init__(self, response: httpx.Response | None, attempts: int) -> None:
        self.response, self.attempts = response, attempts

    @property
    def acked(self) -> bool:
        return self.response is not None and 200 <= self.response.status_code < 300

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code


def _is_json(resp: httpx.Response) -> bool:
    if "json" not in (resp.headers.get("content-type") or ""):
        return False
    try:
        resp.json()
    except ValueError:
        return False
    return True


class SoakClient:
    def __init__(self, base_url: str, key: str, request_timeout: float,
                 deadline: float, max_connections: int) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, timeout=request_timeout,
            headers={"Authorization": f"Bearer {key}"},
            limits=httpx.Limits(max_connections=max_connections,
                                max_keepalive_connections=max_connections))
        self.deadline = deadline  # time.monotonic() after which nothing is retried
        self.records: list[Record] = []

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, endpoint: str,
                      **kwargs: Any) -> httpx.Response | None:
        """One attempt, recorded; None when no answer came."""
        start = time.monotonic()
        try:
            resp = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.records.append(Record(start, time.monotonic(), endpoint, path, None,
                                       type(exc).__name__, None, False, False))
            return None
        self.records.append(Record(
            start, time.monotonic(), endpoint, path, resp.status_code,
            None, resp.headers.get("content-type"), "retry-after" in resp.headers,
            _is_json(resp)))
        return resp

    async def write(self, method: str, path: str, endpoint: str,
                    body: Callable[[], dict[str, Any]]) -> Outcome:
        """Send until answered 2xx/4xx or the deadline; `body()` gives the same request
        arguments each time (a fresh multipart stream for a file)."""
        delay, attempts = BACKOFF_START, 0
        if time.monotonic() > self.deadline:
            return Outcome(None, 0)  # past the drive's deadline: not even a first attempt
        while True:
            attempts += 1
            resp = await self.request(method, path, endpoint, **body())
            if resp is not None and resp.status_code < 500:
                return Outcome(resp, attempts)
            wait = delay
            if resp is not None and (after := resp.headers.get("retry-after", "")).isdigit():
                wait = min(float(after), RETRY_AFTER_MAX)
            if time.monotonic() + wait > self.deadline:
                return Outcome(resp, attempts)
            await asyncio.sleep(wait)
            delay = min(delay * 2, BACKOFF_MAX)
