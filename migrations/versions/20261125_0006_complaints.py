"""Complaints and their steps.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=False),
        sa.Column("customer", JsonType, nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("survey", JsonType, nullable=True),
        sa.Column("order_stage", sa.String(20), nullable=True),
        sa.Column("department", sa.String(40), nullable=True),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("sla_policy", sa.String(64), nullable=False),
        sa.Column("sla_policy_version", sa.String(64), nullable=False),
        sa.Column("sla_policy_snapshot", JsonType, nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("routed_at", UTCDateTime(), nullable=True),
        sa.Column("first_reply_at", UTCDateTime(), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("promised_by", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("satisfaction_requested_at", UTCDateTime(), nullable=True),
        sa.Column("satisfaction_outcome", sa.String(20), nullable=True),
        sa.Column("satisfaction_score", sa.Integer(), nullable=True),
        sa.Column("satisfaction_comment", sa.String(2000), nullable=True),
        sa.Column("satisfaction_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("deadlines", JsonType, nullable=False),
        sa.Column("due_kind", sa.String(20), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("breaches", JsonType, nullable=False),
        sa.Column("create_hash", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_by_role", sa.String(20), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_complaints_order_id", "complaints", ["order_id"])
    op.create_index("ix_complaints_customer_id", "complaints", ["customer_id"])
    op.create_index("ix_complaints_department", "complaints", ["department"])
    op.create_index("ix_complaints_step", "complaints", ["step"])
    op.create_index("ix_complaints_opened_at_id", "complaints", ["opened_at", "id"])
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("complaint_id", sa.String(80), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.UniqueConstraint("complaint_id", "event_id",
                            name="uq_complaint_events_complaint_id_event_id"),
    )
    op.create_index("ix_complaint_events_complaint_id_occurred_at", "complaint_events",
                    ["complaint_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_complaint_events_complaint_id_occurred_at", "complaint_events")
    op.drop_table("complaint_events")
    for name in ("opened_at_id", "step", "department", "customer_id", "order_id"):
        op.drop_index(f"ix_complaints_{name}", "complaints")
    op.drop_table("complaints")
