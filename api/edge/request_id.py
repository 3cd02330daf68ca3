"""Request ids: every request gets one (or keeps a sane one it brought in `X-Request-ID`), every
response carries it back in `X-Request-ID`, every error envelope and every log line written
while the request runs names it, so a caller's report leads to the log line."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def of(scope_or_request: Any) -> str | None:
    """The id of a request (a Starlette Request or an ASGI scope)."""
    scope = getattr(scope_or_request, "scope", scope_or_request)
    state = scope.get("state") or {}
    return state.get("request_id") if isinstance(state, dict) else None


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): it must not buffer bodies or swallow errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(HEADER.lower().encode(), b"").decode(
            "latin-1")
        rid = given if _SANE.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        token = current.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != HEADER.lower().encode()]
                headers.append((HEADER.encode(), rid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to records logged while a request runs (threads included: Starlette's
    thread pool copies the context)."""

    def filter(self, record: logging.LogRecord) -> bool:
        rid = current.get()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return True
