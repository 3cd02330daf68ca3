"""The demo's HTTP client: the public API with the generator's own key, retried where safe.

Every write the demo makes is idempotent (an order body, an event id, a receipt's bytes), so a
request that failed in transit or with a 5xx is simply sent again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

log = logging.getLogger("waybill.demo")

RETRIES = 5


class Refused(Exception):  # noqa: N818 - a refusal is an outcome, not a failure of ours
    """The API said no (4xx): a race with someone else's action, or a step that no longer fits."""

    def __init__(self, status: int, code: str, details: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.details = status, code, details


class Fatal(Exception):  # noqa: N818
    """The demo cannot go on at all: a wrong key, or the demo policies are missing."""


def _error(resp: httpx.Response) -> tuple[str, dict[str, Any]]:
    try:
        error = resp.json().get("error") or {}
    except ValueError:
        return f"http_{resp.status_code}", {}
    return str(error.get("code") or f"http_{resp.status_code}"), error.get("details") or {}


class DemoClient:
    def __init__(self, base_url: str, key: str, timeout: float = 60.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout,
                                       headers={"Authorization": f"Bearer {key}"})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def wait_ready(self, within: float) -> None:
        """Wait until the API answers /readyz (it may still be starting)."""
        deadline = time.monotonic() + within
        while True:
            try:
                if (await self._http.get("/readyz", timeout=5)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise Fatal(f"the API at {self._http.base_url} did not become ready")
            await asyncio.sleep(0.5)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        delay = 0.5
        for attempt in range(1, RETRIES + 1):
            try:
                resp = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == RETRIES:
                    raise
                log.warning("request failed; retrying", extra={
                    "path": path, "attempt": attempt, "error": type(exc).__name__})
            else:
                if resp.status_code < 500 or attempt == RETRIES:
                    return self._checked(resp)
                log.warning("server error; retrying", extra={
                    "path": path, "attempt": attempt, "status": resp.status_code})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)
        raise AssertionError("unreachable")

    @staticmethod
    def _checked(resp: httpx.Response) -> httpx.Response:
        if resp.status_code < 400:
            return resp
        code, details = _error(resp)
        if resp.status_code in (401, 403):
            raise Fatal(f"the API refused the demo's key ({resp.status_code} {code}); "
                        "the demo needs an operator key")
        if code == "unknown_policy":
            raise Fatal(f"the API has no SLA policy {details.get('sla_policy')!r}: seed "
                        "policies/demo.yaml first (waybill dev does it when WAYBILL_DEMO=1)")
        raise Refused(resp.status_code, code, details)

    async def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        return (await self._send("POST", "/v1/orders", json=body)).json()

    async def event(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return (await self._send("POST", f"/v1/orders/{order_id}/events", json=body)).json()

    async def upload_receipt(self, order_id: str, filename: str, content: bytes,
                             content_type: str) -> dict[str, Any]:
        return (await self._send("POST", f"/v1/orders/{order_id}/receipt",
                                 files={"file": (filename, content, content_type)})).json()

    async def order(self, order_id: str) -> dict[str, Any]:
        return (await self._send("GET", f"/v1/orders/{order_id}")).json()
