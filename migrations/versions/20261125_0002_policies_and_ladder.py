"""Versioned SLA policies, and escalation ladders with their history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", JsonType, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", "version", name="pk_sla_policies"),
    )
    op.create_table(
        "escalation_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("escalation_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=True),
        sa.Column("detail", JsonType, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_escalation_events"),
        sa.UniqueConstraint("escalation_id", "seq", name="uq_escalation_events_escalation_id_seq"),
    )
    with op.batch_alter_table("escalations") as batch:
        batch.add_column(sa.Column("resolution_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(120), nullable=True))
        batch.add_column(sa.Column("recipients", JsonType, nullable=True))
        batch.add_column(sa.Column("level_since", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("acknowledged_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("acknowledged_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("snoozed_until", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("next_step_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_escalations_assignee", ["assignee"])


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_index("ix_escalations_assignee")
        for name in ("next_step_at", "snoozed_until", "acknowledged_by", "acknowledged_at",
                     "level_since", "recipients", "assignee", "resolved_by", "resolution_code"):
            batch.drop_column(name)
    op.drop_table("escalation_events")
    op.drop_table("sla_policies")
