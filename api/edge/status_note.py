"""What the middlewares around the app (access log, metrics, traces) read of one answer: its
status, and the route template that served it."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StatusNote:
    """Passes the app's messages on to `send`, noting the status it answered.

    500 until the app answers: if it raises first, the server's answer is a 500."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status = 500

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)


def route_template(scope: Scope) -> str | None:
    """The matched route's template (`/v1/orders/{order_id}`), not the path: one per endpoint,
    whatever the ids; None when no route matched."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else None


class AnswerObserver(ABC):
    """A pure-ASGI middleware (no BaseHTTPMiddleware: nothing buffered or swallowed) that is
    told, once each HTTP request has been answered or has failed, its status and duration."""

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
            self.answered(scope, answer.status, time.perf_counter() - started)

    @abstractmethod
    def answered(self, scope: Scope, status: int, seconds: float) -> None:
        """Record one answered request."""
