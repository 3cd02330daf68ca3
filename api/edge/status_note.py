"""What the middlewares around the app (access log, metrics, traces) read of one answer: its
status, and the route template that served it."""

from __future__ import annotations

from starlette.types import Message, Scope, Send


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
