"""Liveness and readiness probes (no key needed)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database and Temporal answer; 503 naming whichever does not."""
    state = request.app.state
    failing: dict[str, str] = {}
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means "not ready"
        failing["database"] = type(exc).__name__
    try:
        await asyncio.wait_for(state.temporal.service_client.check_health(), timeout=3)
    except Exception as exc:
        failing["temporal"] = type(exc).__name__
    if failing:
        return JSONResponse(status_code=503, content={"error": {
            "code": "not_ready", "message": "not ready: " + ", ".join(sorted(failing)),
            "details": {"failing": failing}}})
    return JSONResponse({"status": "ready", "database": "ok", "temporal": "ok"})
