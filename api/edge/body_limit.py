"""Request body limit, enforced before anything parses the body or authenticates the caller.

Pure ASGI, outside the routers: a declared `Content-Length` over the limit is refused at once,
without reading a byte; a chunked (or lying) body is counted as it streams and refused once it
passes the limit, so an unauthenticated caller costs at most the limit in memory. JSON (and
every other non-multipart body) gets `max_json_body_bytes`, refused with 413 `body_too_large`;
multipart uploads keep their own limit and code (413 `file_too_large`, as read_upload
in api/documents/uploads.py answers when it finds the file too large).
Both in the API's error envelope, with the request id.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.edge import request_id
from api.errors import envelope

# The multipart envelope around an upload's file (boundaries, headers, small fields).
UPLOAD_SLACK = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a streamed body passes the limit. An HTTPException, so
    FastAPI's body reading passes it on and the API's handler answers 413 with its code."""

    def __init__(self, code: str, limit: int) -> None:
        what = "file" if code == "file_too_large" else "request body"
        super().__init__(413, f"the {what} is larger than {limit} bytes")
        self.code, self.limit = code, limit


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    def limit_for(self, headers: dict[bytes, bytes]) -> tuple[int, BodyTooLarge]:
        """(bytes allowed, the refusal past them) for a body sent with `headers`."""
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype == b"multipart/form-data":
            return (self.max_upload_bytes + UPLOAD_SLACK,
                    BodyTooLarge("file_too_large", self.max_upload_bytes))
        return self.max_json_bytes, BodyTooLarge("body_too_large", self.max_json_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        limit, too_large = self.limit_for(headers)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await refuse(scope, receive, send, too_large)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise too_large
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:  # a streamed response had begun: nothing better can be said
                raise
            await refuse(scope, receive, send, too_large)


async def refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
    response = envelope(413, exc.code, str(exc.detail), {"max_bytes": exc.limit},
                        {"Connection": "close"}, request_id.of(scope))
    await response(scope, receive, send)
