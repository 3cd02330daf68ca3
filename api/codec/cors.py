"""CORS for the codec endpoint: the configured Temporal Web UI's origin, and no other.

The UI calls `/codec/decode` from its own origin, so the browser asks first (a preflight:
OPTIONS with `Access-Control-Request-Method`, no key). Only under `/codec/`, pure ASGI and
outside the routers: the preflight is answered here, before any key is asked for, and every
answer to the allowed origin carries the headers the browser needs to read it, errors too.
A request from another origin is refused (403 `origin_not_allowed`), preflight or not; a caller
that sends no Origin (the Temporal CLI, scripts) is not a browser and passes on to the key check.

The same endpoint under `/console/codec/` (console/codec/routes.py) admits the console's
signed-in session instead of a key, so the Web UI, told to include credentials, decodes for the
auditor signed in to the console in the same browser. Its answers to the UI's origin allow
credentials, and it takes only requests from that origin: a cookie is sent by any page, so a
request without the UI's Origin (a form on another site, a script) never reaches the session.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.edge import request_id
from api.errors import envelope

PREFIX = "/codec/"
SESSION_PREFIX = "/console/codec/"
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
        path = scope["path"] if scope["type"] == "http" else ""
        session = path.startswith(SESSION_PREFIX)
        if not (session or path.startswith(PREFIX)):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"origin", b"").decode("latin-1")
        preflight = (scope["method"] == "OPTIONS"
                     and b"access-control-request-method" in headers)
        if (given or preflight or session) and given.lower() != self.origin:
            await envelope(403, "origin_not_allowed",
                           "this origin may not call the codec endpoint",
                           {"origin": given[:200]}, {"Vary": "Origin"},
                           request_id.of(scope))(scope, receive, send)
            return
        if preflight:
            await self._preflight(send, session)
            return
        if not given:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self._allow(session)]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _allow(self, credentials: bool) -> list[tuple[bytes, bytes]]:
        allow = [(b"access-control-allow-origin", self.origin.encode()), (b"vary", b"Origin")]
        return [*allow, (b"access-control-allow-credentials", b"true")] if credentials else allow

    async def _preflight(self, send: Send, credentials: bool) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": [
            *self._allow(credentials),
            (b"access-control-allow-methods", b"POST"),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", str(MAX_AGE_SECONDS).encode())]})
        await send({"type": "http.response.body", "body": b""})
