"""Complaints over HTTP: open one and post its events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.support.api_harness import Api


async def open_complaint(api: Api, body: dict[str, Any],
                         role: str = "operator") -> httpx.Response:
    return await api.http.post("/v1/complaints", json=body, headers=api.auth(role))


async def post(api: Api, complaint_id: str, type_: str, data: dict[str, Any],
               event_id: str | None = None, role: str = "operator",
               occurred_at: datetime | None = None) -> httpx.Response:
    body = {"event_id": event_id or f"ev-{uuid.uuid4().hex[:10]}", "type": type_,
            "occurred_at": (occurred_at or datetime.now(UTC)).isoformat(), "data": data}
    return await api.http.post(f"/v1/complaints/{complaint_id}/events", json=body,
                               headers=api.auth(role))
