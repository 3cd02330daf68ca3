"""A worker that stops mid-path loses nothing: a new one finishes the order, with no duplicates."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine
from db.escalations.models import EscalationRow
from db.orders.models import Order, OrderEvent
from tests.support.api_harness import StackFactory, order_body
from tests.support.builders import FULL_PICK, POD, SHIP
from tests.support.worker_harness import running_worker


async def test_order_completes_after_the_worker_is_replaced(
        make_stack: StackFactory, dev_env: WorkflowEnvironment, db_url: str,
        task_queue: str) -> None:
    async with make_stack(db_url, worker=False) as api:
        body = order_body()
        order_id = body["order_id"]
        async with running_worker(dev_env.client, db_url, task_queue):
            assert (await api.create(body)).status_code == 201
            for type_, data in (("confirmed", {}), ("picked", FULL_PICK)):
                assert (await api.event(order_id, type_, data, event_id=type_)).status_code == 200

        # No worker now: the event waits in Temporal instead of failing.
        at = datetime.now(UTC)
        pending = asyncio.create_task(api.event(order_id, "shipped", SHIP, event_id="shipped",
                                                occurred_at=at))
        await asyncio.sleep(1.0)
        assert not pending.done()

        async with running_worker(dev_env.client, db_url, task_queue):
            shipped = await asyncio.wait_for(pending, timeout=30)
            assert shipped.status_code == 200 and shipped.json()["stage"] == "in_transit"
            # The integration's retry of a delivery it never saw answered is harmless.
            retry = await api.event(order_id, "shipped", SHIP, event_id="shipped", occurred_at=at)
            assert retry.json()["duplicate"] is True
            for type_, data in (("delivered", POD), ("receipt_returned", api.archived_receipt())):
                assert (await api.event(order_id, type_, data, event_id=type_)).status_code == 200

        view = (await api.get(f"/v1/orders/{order_id}")).json()
        assert view["stage"] == "receipt_archived" and view["in_full"] is True

    engine = make_engine(db_url)
    with engine.connect() as conn:
        ids = conn.execute(select(OrderEvent.event_id)
                           .where(OrderEvent.order_id == order_id)).scalars().all()
        orders = conn.execute(select(func.count()).select_from(Order)
                              .where(Order.order_id == order_id)).scalar_one()
        escalations = conn.execute(select(func.count()).select_from(EscalationRow)).scalar_one()
    engine.dispose()
    assert orders == 1 and escalations == 0
    assert not [i for i, n in Counter(ids).items() if n > 1]
    assert sorted(ids) == sorted(["order-created", "confirmed", "picked", "shipped",
                                  "shipped-in-transit", "delivered", "receipt_returned"])
