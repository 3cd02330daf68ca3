"""CORS for the codec endpoint: the configured Temporal Web UI's origin, and no other.

The UI calls `/codec/decode` from its own origin, so the browser asks first (a preflight:
OPTIONS with `Access-Control-Request-Method`, no key). Only under `/codec/`, pure ASGI and
outside the routers: the preflight is answered here, before any key is asked for, and every
answer to the allowed origin carries the headers the browser needs to read it, errors too.
A request from another origin is refused (403 `origin_not_allowed`), preflight or not; a caller
that sends no Origin (the Temporal CLI, scripts) is not a browser and passes on to the key check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.edge import request_id
from api.errors import envelope

PREFIX = "/codec/"
# What the UI sends: its JSON body, the namespace, and the key when one is passed.
ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
MAX_AGE_SECONDS = 600


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, as a browser's Origin header spells it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) origin: {url!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


class CodecCorsMiddleware:
    def __init__(self, app: ASGIApp, origin: str) -> None:
        self.app = app
        self.origin = origin_of(origin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"origin", b"").decode("latin-1")
        preflight = (scope["method"] == "OPTIONS"
                     and b"access-control-request-method" in headers)
        if (given or preflight) and given.lower() != self.origin:
            await envelope(403, "origin_not_allowed",
                           "this origin may not call the codec endpoint",
                           {"origin": given[:200]}, {"Vary": "Origin"},
                           request_id.of(scope))(scope, receive, send)
            return
        if preflight:
            await self._preflight(send)
            return
        if not given:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._allow()]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _allow(self) -> list[tuple[bytes, bytes]]:
        return [(b"access-control-allow-origin", self.origin.encode()),
                (b"vary", b"Origin")]

    async def _preflight(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": [
            *self._allow(),
            (b"access-control-allow-methods", b"POST"),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", str(MAX_AGE_SECONDS).encode())]})
        await send({"type": "http.response.body", "body": b""})
