"""HTTP metrics: every request counted by method, route template and status, and timed.

The route is the template the router matched (`/v1/orders/{order_id}/events`), never the raw
path, so an order id never becomes a label value; a request no route matched (a 404, a probe)
is counted under `unmatched`. Pure ASGI, like the access log: nothing buffered or swallowed.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

UNMATCHED = "unmatched"
# Any token is a valid HTTP method: others are counted together, so labels stay bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before it answers, the server's answer is a 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            method = scope.get("method", "")
            method = method if method in METHODS else "other"
            route = route_of(scope)
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_REQUEST_SECONDS.labels(method=method, route=route).observe(
                time.perf_counter() - started)
