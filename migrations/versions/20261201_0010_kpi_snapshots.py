"""Stored KPI snapshots (daily KPIs, monthly follow-up report), one per kind and period.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_snapshots",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period_key", sa.String(16), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("body", JsonType, nullable=False),
        sa.PrimaryKeyConstraint("kind", "period_key", name=op.f("pk_kpi_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("kpi_snapshots")
