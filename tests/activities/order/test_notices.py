"""Notifications caused by real order events, end to end: API -> workflow -> outbox -> receivers.

The customer hears of confirmation, shipment and delay risk (before the promise is missed) by
signed webhook and by email in their language; the ladder's level changes reach staff inboxes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from tests.support.api_harness import StackFactory, order_body
from tests.support.builders import FULL_PICK, SHIP
from tests.support.notify_harness import smtp_server, webhook_receiver
from tests.support.polling import eventually

EVENTS = ["order.confirmed", "order.shipped", "order.delay_risk", "escalation.level_changed"]


async def test_order_events_reach_webhook_email_and_inbox(
        make_stack: StackFactory, db_url: str) -> None:
    with webhook_receiver() as receiver, smtp_server() as (mailbox, port):
        async with make_stack(db_url,
                              smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none") as api:
            sub = await api.http.post("/v1/subscriptions", headers=api.auth("admin"),
                                      json={"url": receiver.url, "event_types": EVENTS})
            assert sub.status_code == 201, sub.text
            receiver.secret = sub.json()["secret"]
            engine = make_engine(db_url)
            with transaction(session_factory(engine)) as session:
                desk_key = create_key(session, "desk-li", "operator", team="ops_desk")[1]
            engine.dispose()

            body = order_body(deliver_in_h=48)
            body["customer"].update(language="en", email="buyer@example.com")
            order_id = body["order_id"]
            assert (await api.create(body)).status_code == 201
            for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)):
                assert (await api.event(order_id, type_, data)).status_code == 200
            late = (datetime.now(UTC) + timedelta(days=5)).isoformat()
            await api.event(order_id, "tracking_scan",
                            {"location": "Hangzhou", "status": "delayed", "eta": late})

            async def arrived() -> bool:
                types = Counter(r.event_type for r in receiver.requests)
                return len(mailbox.messages) >= 3 and all(types[t] for t in EVENTS)

            await eventually(arrived, timeout=30)

            inbox = await api.http.get("/v1/inbox",
                                       headers={"Authorization": f"Bearer {desk_key}"})
            items = inbox.json()["items"]
            assert [i["order_id"] for i in items] == [order_id]
            assert items[0]["escalation_id"].startswith(f"esc-{order_id}-late_risk")

    assert all(r.signature_ok for r in receiver.requests)
    per_type = Counter(r.event_type for r in receiver.requests)
    assert per_type == {"order.confirmed": 1, "order.shipped": 1, "order.delay_risk": 1,
                        "escalation.level_changed": 1}
    subjects = [m["Subject"] for m in mailbox.messages]
    assert len(subjects) == 3 and all(order_id in s for s in subjects)
    assert all(m["Content-Language"] == "en" for m in mailbox.messages)
    delay = next(m for m in mailbox.messages if "late" in m["Subject"].lower())
    assert "SF123" in delay.get_content()
