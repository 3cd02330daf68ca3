"""Initial schema: API keys, orders, the order timeline and escalations.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STAGE_TIMES = ("received_at", "confirmed_at", "picked_at", "shipped_at", "in_transit_at",
               "delivered_at", "receipt_archived_at", "followed_up_at", "closed_at",
               "cancelled_at")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=False),
        sa.Column("customer", JsonType, nullable=False),
        sa.Column("lines", JsonType, nullable=False),
        sa.Column("destination", JsonType, nullable=False),
        sa.Column("promised_ship_by", UTCDateTime(), nullable=False),
        sa.Column("promised_delivery_by", UTCDateTime(), nullable=False),
        sa.Column("sla_policy", sa.String(64), nullable=False),
        sa.Column("sla_policy_version", sa.String(64), nullable=False),
        sa.Column("sla_policy_snapshot", JsonType, nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        *(sa.Column(name, UTCDateTime(), nullable=name != "received_at") for name in STAGE_TIMES),
        sa.Column("carrier", sa.String(120), nullable=True),
        sa.Column("tracking_no", sa.String(120), nullable=True),
        sa.Column("in_full", sa.Boolean(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("follow_up_status", sa.String(20), nullable=True),
        sa.Column("next_deadline_kind", sa.String(40), nullable=True),
        sa.Column("next_deadline_at", UTCDateTime(), nullable=True),
        sa.Column("detail", JsonType, nullable=False),
        sa.Column("create_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_by_role", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("projection_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.create_index("ix_orders_customer_tier", "orders", ["customer_tier"])
    op.create_index("ix_orders_stage", "orders", ["stage"])
    op.create_index("ix_orders_tracking_no", "orders", ["tracking_no"])
    op.create_index("ix_orders_promised_delivery_by", "orders", ["promised_delivery_by"])
    op.create_index("ix_orders_created_at_order_id", "orders", ["created_at", "order_id"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.UniqueConstraint("order_id", "event_id", name="uq_order_events_order_id_event_id"),
    )
    op.create_index("ix_order_events_order_id_occurred_at", "order_events",
                    ["order_id", "occurred_at"])
    op.create_table(
        "escalations",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("breach_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.String(500), nullable=True),
        sa.Column("updated_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_escalations"),
    )
    op.create_index("ix_escalations_order_id", "escalations", ["order_id"])
    op.create_index("ix_escalations_state_opened_at", "escalations", ["state", "opened_at"])


def downgrade() -> None:
    op.drop_table("escalations")
    op.drop_table("order_events")
    op.drop_table("orders")
    op.drop_table("api_keys")
