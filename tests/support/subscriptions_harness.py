"""Webhook subscriptions over HTTP, and delivery rows seeded straight into the outbox."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from db.engine import make_engine, session_factory, transaction
from db.notifications.models import OutboxRow
from db.notifications.outbox import Notice, enqueue, outbox_id
from tests.support.api_harness import Api

HOOK = "https://hooks.example.com/waybill"


async def call(api: Api, method: str, path: str, role: str | None = "admin",
               body: dict[str, Any] | None = None, **params: Any) -> httpx.Response:
    headers = api.auth(role) if role else {}
    return await api.http.request(method, path, json=body, headers=headers, params=params)


async def new_subscription(api: Api, **body: Any) -> dict[str, Any]:
    resp = await call(api, "POST", "/v1/subscriptions",
                      body={"url": HOOK, "event_types": ["order.shipped"], **body})
    assert resp.status_code == 201, resp.text
    return resp.json()


def seed_deliveries(api: Api, sub_id: str, statuses: list[str], start: datetime | None = None,
                    event_type: str = "order.shipped") -> list[str]:
    """One webhook row per status for `sub_id` (subscribed to `event_type`), a minute apart
    from `start`; oldest first."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    engine = make_engine(api.settings.db_url)
    ids = []
    with transaction(session_factory(engine)) as session:
        for i, status in enumerate(statuses):
            key = f"SO-{i}:{uuid.uuid4().hex[:6]}"
            enqueue(session, [Notice(key=key, event_type=event_type, audience="customer",
                                     order_id=f"SO-{i}")])
            row_id = outbox_id(key, "webhook", sub_id)
            session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
                status=status, created_at=start + timedelta(minutes=i)))
            ids.append(row_id)
    engine.dispose()
    return ids
