"""Escalations over HTTP: wait for an order's escalation to reach a level."""

from __future__ import annotations

from typing import Any

from tests.support.api_harness import Api
from tests.support.polling import eventually


async def escalation_of(api: Api, order_id: str, level: int = 1) -> dict[str, Any]:
    """Create nothing; wait until the order's escalation exists at `level`."""
    async def probe() -> dict[str, Any] | None:
        items = (await api.get("/v1/escalations", order_id=order_id)).json()["items"]
        return items[0] if items and items[0]["level"] >= level else None

    return await eventually(probe, timeout=30)
