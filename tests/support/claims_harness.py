"""Claims over HTTP: open one, post its events, wait for its read model."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.api_harness import Api, created
from tests.support.polling import eventually


async def drive(api: Api, order_id: str, *steps: tuple[str, dict[str, Any]]) -> None:
    for type_, data in steps:
        resp = await api.event(order_id, type_, data)
        assert resp.status_code == 200, resp.text


async def open_claim(api: Api, order_id: str, role: str = "operator",
                     cause: str = "damaged") -> httpx.Response:
    return await api.http.post(f"/v1/orders/{order_id}/claims", headers=api.auth(role),
                               json={"cause": cause, "description": "cartons crushed"})


async def claim_of(api: Api, claim_id: str, **expect: Any) -> dict[str, Any]:
    """The claim once its read model shows it (with the fields in `expect`)."""
    async def probe() -> dict[str, Any] | None:
        resp = await api.get(f"/v1/claims/{claim_id}", role="auditor")
        if resp.status_code != 200:
            return None
        body = resp.json()
        return body if all(body.get(k) == v for k, v in expect.items()) else None

    return await eventually(probe)


async def claim_on_cancelled_order(api: Api, cause: str = "damaged",
                                   **order: Any) -> tuple[str, str]:
    """A claim opened on an order that has ended: started directly, quick to set up."""
    order_id = await created(api, **order)
    await drive(api, order_id, ("cancelled", {"reason": "customer withdrew"}))
    resp = await open_claim(api, order_id, cause=cause)
    assert resp.status_code == 201, resp.text
    claim_id = resp.json()["claim_id"]
    await claim_of(api, claim_id)
    return order_id, claim_id


async def post(api: Api, claim_id: str, type_: str, data: dict[str, Any],
               role: str = "operator", event_id: str | None = None) -> httpx.Response:
    return await api.http.post(f"/v1/claims/{claim_id}/events", headers=api.auth(role), json={
        "event_id": event_id or f"ce-{uuid.uuid4().hex[:10]}", "type": type_, "data": data})
