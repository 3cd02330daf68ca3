"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])

# Each dependency gets this long to answer a readiness probe.
PROBE_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: answered from memory on the event loop, so it stays fast even when every
    database connection and worker thread is busy."""
    return {"status": "ok"}


def _select_one(request: Request) -> None:
    with request.app.state.engine.connect() as conn:
        conn.execute(text("SELECT 1"))


@router.get("/readyz", responses={503: {"description": "not_ready: `details.failing` names "
                                                      "the dependency that did not answer"}})
async def readyz(request: Request) -> JSONResponse:
    """200 when the database and Temporal answer within 2 s each; 503 naming what failed."""
    state = request.app.state
    failing: dict[str, str] = {}

    async def probe(name: str, check: Awaitable[object]) -> None:
        try:
            await asyncio.wait_for(check, timeout=PROBE_TIMEOUT_SECONDS)
        except TimeoutError:
            failing[name] = "timeout"
        except Exception as exc:  # any driver or RPC error means "not ready"
            failing[name] = type(exc).__name__

    await asyncio.gather(
        probe("database", run_in_threadpool(_select_one, request)),
        probe("temporal", state.temporal.service_client.check_health()))
    if failing:
        retry = str(getattr(state.settings, "retry_after_seconds", 5))
        return JSONResponse(status_code=503, headers={"Retry-After": retry}, content={"error": {
            "code": "not_ready", "message": "not ready: " + ", ".join(sorted(failing)),
            "details": {"failing": failing}}})
    return JSONResponse({"status": "ready", "database": "ok", "temporal": "ok"})
