"""The access log: one structured line per HTTP request, when its response has been sent.

Fields: method, path, status, duration_ms, role (set by the auth dependency on
`request.state.role`; absent for public and refused requests) and request_id (api/edge/
request_id.py; install this middleware inside that one). The query string is left out (a
filter value may name a customer or carry a token) and a survey link's token is masked: the
token is the customer's credential.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from api.edge import request_id
from api.edge.status_note import StatusNote

log = logging.getLogger("waybill.access")
_SURVEY_PREFIX = "/s/"


def loggable_path(path: str) -> str:
    if path.startswith(_SURVEY_PREFIX):
        return _SURVEY_PREFIX + "<token>"
    return path


class AccessLogMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not buffer bodies or swallow errors."""

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
            state = scope.get("state") or {}
            entry = {"method": scope.get("method"), "path": loggable_path(scope.get("path", "")),
                     "status": answer.status,
                     "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                     "request_id": request_id.of(scope)}
            if isinstance(state, dict) and state.get("role"):
                entry["role"] = state["role"]
            log.info("request", extra=entry)
