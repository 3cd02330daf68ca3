"""Request spans: every HTTP request is a span, the root of its trace (shared/tracing.py), so an
event's update, workflow task and projection activity hang under the POST that sent them.

The tracer is the app's (`app.state.tracer`, set in the lifespan when traces are on); without
one a request passes straight through. A caller's W3C `traceparent` is continued, so a system
that traces its own calls sees Waybill's part in its trace. Span attributes follow the
OpenTelemetry HTTP conventions, plus `waybill.request_id`; the path is the access log's (a
survey link's token masked: it is the customer's credential).
"""

from __future__ import annotations

from opentelemetry import propagate
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Receive, Scope, Send

from api.edge import request_id
from api.edge.access_log import loggable_path
from api.edge.status_note import StatusNote, route_template

# Probed every few seconds by a load balancer or Kubernetes: a span each would bury the traces
# an operator looks for.
UNTRACED = frozenset({"/healthz", "/readyz"})


def tracer_of(scope: Scope) -> Tracer | None:
    app = scope.get("app")
    tracer = getattr(getattr(app, "state", None), "tracer", None)
    return tracer if isinstance(tracer, Tracer) else None


class TraceMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not buffer bodies or swallow errors. Install
    it inside RequestIdMiddleware (the span names the request id) and outside the access log
    (whose line then carries the trace id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        traced = scope["type"] == "http" and scope.get("path") not in UNTRACED
        tracer = tracer_of(scope) if traced else None
        if tracer is None:
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "")
        carrier = {k.decode("latin-1"): v.decode("latin-1")
                   for k, v in scope.get("headers") or []}
        attributes: dict[str, str] = {"http.request.method": method,
                                      "url.path": loggable_path(scope.get("path", ""))}
        rid = request_id.of(scope)
        if rid is not None:
            attributes["waybill.request_id"] = rid
        with tracer.start_as_current_span(method, context=propagate.extract(carrier),
                                          kind=SpanKind.SERVER, attributes=attributes) as span:
            answer = StatusNote(send)
            try:
                await self.app(scope, receive, answer.send)
            finally:
                # The route's template (not the path) names the span, so one event type's
                # spans group together whatever the order id.
                route = route_template(scope)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", answer.status)
                if answer.status >= 500:  # a 4xx is the caller's mistake, not a failure of ours
                    span.set_status(Status(StatusCode.ERROR))
