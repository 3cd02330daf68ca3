"""HTTP metrics: every request counted by method, route template and status, and timed.

The route is the template the router matched (`/v1/orders/{order_id}/events`), never the raw
path, so an order id never becomes a label value; a request no route matched (a 404, a probe)
is counted under `unmatched`. Pure ASGI, like the access log: nothing buffered or swallowed.
"""

from __future__ import annotations

from starlette.types import Scope

from api.edge.status_note import AnswerObserver, route_template
from observability.metrics import HTTP_REQUEST_SECONDS, HTTP_REQUESTS

UNMATCHED = "unmatched"
# Any token is a valid HTTP method: others are counted together, so labels stay bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_of(scope: Scope) -> str:
    return route_template(scope) or UNMATCHED


class HttpMetricsMiddleware(AnswerObserver):
    def answered(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        method = method if method in METHODS else "other"
        route = route_of(scope)
        HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
        HTTP_REQUEST_SECONDS.labels(method=method, route=route).observe(seconds)
