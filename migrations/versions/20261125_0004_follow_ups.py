"""Follow-ups per order for the monthly report; what an escalation is about.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=False),
        sa.Column("sla_policy", sa.String(64), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("invited_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("attempted", sa.Boolean(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("channel", sa.String(10), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("goods_ok", sa.Boolean(), nullable=True),
        sa.Column("scores", JsonType, nullable=True),
        sa.Column("suggestions", sa.String(2000), nullable=True),
        sa.Column("problems", JsonType, nullable=True),
        sa.Column("updated_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_follow_ups_due_at", "follow_ups", ["due_at"])
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("subject", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("subject")
    op.drop_index("ix_follow_ups_due_at", "follow_ups")
    op.drop_table("follow_ups")
