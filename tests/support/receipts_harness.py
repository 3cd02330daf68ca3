"""Receipts over HTTP: a stack with a small upload limit, an upload, an order delivered."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api_harness import Api, created
from tests.support.builders import FULL_PICK, POD, SHIP

SMALL_LIMIT = 4096


async def upload(api: Api, order_id: str, data: bytes | None, filename: str = "receipt.pdf",
                 content_type: str = "application/pdf", role: str = "operator",
                 **form: Any) -> httpx.Response:
    files = {"file": (filename, data, content_type)} if data is not None else None
    return await api.http.post(f"/v1/orders/{order_id}/receipt", files=files,
                               data=form or None, headers=api.auth(role))


async def delivered(api: Api, **order: Any) -> str:
    order_id = await created(api, **order)
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivered", POD)):
        resp = await api.event(order_id, type_, data)
        assert resp.status_code == 200, resp.text
    return order_id
