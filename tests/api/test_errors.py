"""Every error leaves as the envelope; every 503 says when to retry (a fast test, no servers)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from api import errors
from api.edge.request_id import RequestIdMiddleware
from api.errors import ApiError
from config import Settings


def _app() -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(retry_after_seconds=7)
    errors.install(app)
    app.add_middleware(RequestIdMiddleware)

    @app.get("/archive")
    def archive() -> None:
        raise ApiError(503, "archive_unavailable", "the document archive did not answer")

    return app


async def test_a_503_of_any_cause_carries_retry_after_and_the_envelope() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        resp = await http.get("/archive")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "7"
    body = resp.json()
    assert body["error"]["code"] == "archive_unavailable"
    assert body["error"]["request_id"] == resp.headers["X-Request-ID"]
