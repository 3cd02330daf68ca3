"""HTTP metrics: every request counted by method, route template and status, and timed.

The route is the template the router matched (`/v1/orders/{order_id}/events`), never the raw
path, so an order id never becomes a label value; a request no route matched (a 404, a probe)
is counted under `unmatched`. Pure ASGI, like the access log: nothing buffered or swallowed.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Receive, Scope, Send

from api.edge.status_note import StatusNote, route_template
from observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

UNMATCHED = "unmatched"
# Any token is a valid HTTP method: others are counted together, so labels stay bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(scope: Scope) -> str:
    return route_template(scope) or UNMATCHED


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = StatusNote(send)
        try:
            await self.app(scope, receive, answer.send)
        finally:
            method = scope.get("method", "")
            method = method if method in METHODS else "other"
            route = route_of(scope)
            HTTP_REQUESTS.labels(method=method, route=route, status=str(answer.status)).inc()
            HTTP_REQUEST_SECONDS.labels(method=method, route=route).observe(
                time.perf_counter() - started)
