"""Notifications: the outbox, webhook subscriptions, inbox items; a team on API keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("notice_key", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("escalation_id", sa.String(200), nullable=True),
        sa.Column("locale", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", JsonType, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_notice_key", "outbox", ["notice_key"])
    op.create_index("ix_outbox_order_id", "outbox", ["order_id"])
    op.create_index("ix_outbox_status_created_at", "outbox", ["status", "created_at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("event_types", JsonType, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.Column("disabled_reason", sa.String(500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
    )
    op.create_table(
        "inbox_items",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("team", sa.String(120), nullable=False),
        sa.Column("outbox_id", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("escalation_id", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("read_by", sa.String(120), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbox_items"),
    )
    op.create_index("ix_inbox_items_team_created_at", "inbox_items",
                    ["team", "created_at", "id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("team", sa.String(120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("team")
    op.drop_index("ix_inbox_items_team_created_at", table_name="inbox_items")
    op.drop_table("inbox_items")
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_outbox_status_created_at", table_name="outbox")
    op.drop_index("ix_outbox_order_id", table_name="outbox")
    op.drop_index("ix_outbox_notice_key", table_name="outbox")
    op.drop_table("outbox")
