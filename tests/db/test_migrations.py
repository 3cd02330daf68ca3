"""The schema comes from migrations: they must build exactly what the models describe."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, select

import db.registry  # noqa: F401  (registers every table)
from db.base import Base
from db.engine import make_engine
from db.migrate import alembic_config
from db.notifications.models import InboxItem, OutboxRow, WebhookSubscription
from db.orders.models import Order, OrderScan


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_outbox_order_id_becomes_null_and_every_migration_downgrades_and_upgrades_again(
        db_url: str) -> None:
    """0011: a notice about no order was stored with order_id '' (the column was NOT NULL);
    upgrading makes it NULL (and the payload a pending webhook row will send); downgrading
    writes '' back. Then all the way down and up again, which SQLite could not do before
    (its dialect was never initialised in migrations/env.py: 0009's batch downgrade broke)."""
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0010")
    now = datetime.now(UTC)
    row = {"notice_key": "k", "event_type": "report.follow_up_monthly", "audience": "staff",
           "channel": "webhook", "recipient": "sub", "escalation_id": None, "locale": "zh-CN",
           "subject": "s", "body": "b", "attempts": 0, "created_at": now}
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(OutboxRow.__table__), [
                {**row, "id": "pending", "order_id": "", "status": "pending",
                 "payload": {"order_id": "", "type": "report.follow_up_monthly"}},
                {**row, "id": "sent", "order_id": "", "status": "delivered",
                 "payload": {"order_id": ""}},
                {**row, "id": "order", "order_id": "SO-1", "status": "pending",
                 "payload": {"order_id": "SO-1"}}])
            conn.execute(insert(InboxItem.__table__), [{
                "id": "i", "team": "customer_service", "outbox_id": "sent",
                "event_type": "report.follow_up_monthly", "title": "t", "body": "b",
                "order_id": "", "escalation_id": None, "created_at": now}])
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(OutboxRow.__table__))}
            assert conn.scalar(select(InboxItem.__table__.c.order_id)) is None
        assert rows["pending"].order_id is None and rows["sent"].order_id is None
        assert rows["pending"].payload == {"order_id": None, "type": "report.follow_up_monthly"}
        assert rows["sent"].payload == {"order_id": ""}  # what was sent stays recorded
        assert rows["order"].order_id == "SO-1" and rows["order"].payload == {"order_id": "SO-1"}

        command.downgrade(cfg, "0010")
        with engine.connect() as conn:
            assert conn.scalar(select(OutboxRow.__table__.c.order_id).where(
                OutboxRow.__table__.c.id == "pending")) == ""
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_uncertain_rows_go_back_to_pending_and_receiver_bodies_are_dropped(db_url: str) -> None:
    """0012: at most once left rows `uncertain` (maybe never arrived): they become `pending`,
    for the sweep to send again (receivers de-duplicate on webhook-id); a stored refusal keeps
    its status code but not what the receiver said."""
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0011")
    now = datetime.now(UTC)
    row = {"notice_key": "k", "event_type": "order.shipped", "audience": "customer",
           "channel": "webhook", "recipient": "sub_1", "order_id": "SO-1", "escalation_id": None,
           "locale": "zh-CN", "subject": "s", "body": "b", "payload": {}, "attempts": 1,
           "created_at": now}
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(OutboxRow.__table__), [
                {**row, "id": "lost", "status": "uncertain", "claim": "dead",
                 "last_error": "a previous attempt was interrupted after it may have sent"},
                {**row, "id": "refused", "status": "failed", "claim": None,
                 "last_error": "webhook answered 500: password=hunter2"}])
            conn.execute(insert(WebhookSubscription.__table__), [{
                "id": "sub_1", "url": "https://hooks.example.com", "secret": "whsec_x",
                "event_types": ["order.shipped"], "active": True, "consecutive_failures": 1,
                "last_error": "webhook answered 503: <html>upstream down</html>",
                "created_at": now, "created_by": "t", "updated_at": now}])
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(OutboxRow.__table__))}
            sub_error = conn.scalar(select(WebhookSubscription.__table__.c.last_error))
        assert rows["lost"].status == "pending" and rows["lost"].claim is None
        assert rows["refused"].status == "failed"
        assert rows["refused"].last_error == "webhook answered 500"
        assert sub_error == "webhook answered 503"
    finally:
        engine.dispose()


def test_scans_move_from_the_detail_into_rows_and_back(db_url: str) -> None:
    """0015: an order's scans leave `orders.detail` (rewritten at every event) for
    `order_scans`; downgrading puts them back."""
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0014")
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    scans = [{"event_id": "s2", "occurred_at": "2026-12-01T10:00:00Z", "location": "Depot",
              "status": "arrived", "eta": None, "seen_at": "2026-12-01T10:00:05+00:00"},
             {"event_id": "s1", "occurred_at": "2026-12-01T09:00:00Z", "location": "Hub",
              "status": "departed", "eta": "2026-12-02T09:00:00Z", "seen_at": None}]
    order = {"order_id": "SO-1", "customer_id": "C-1", "customer_tier": "standard",
             "customer": {}, "lines": [], "destination": {}, "promised_ship_by": at,
             "promised_delivery_by": at, "sla_policy": "standard", "sla_policy_version": "1",
             "sla_policy_snapshot": {}, "stage": "in_transit", "received_at": at,
             "breached": False, "detail": {"scans": scans, "lost": False}, "create_hash": "",
             "created_by": "t", "created_by_role": "t", "created_at": at, "updated_at": at,
             "projection_seq": 3}
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Order.__table__).values(order))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = conn.execute(select(OrderScan.__table__).order_by("occurred_at")).all()
        assert [(r.event_id, r.location, r.eta) for r in rows] == [
            ("s1", "Hub", datetime(2026, 12, 2, 9, tzinfo=UTC)), ("s2", "Depot", None)]
        command.downgrade(cfg, "0014")
        with engine.connect() as conn:
            detail = conn.scalar(select(Order.__table__.c.detail))
        assert [s["event_id"] for s in detail["scans"]] == ["s1", "s2"]
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
