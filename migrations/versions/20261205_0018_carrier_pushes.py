"""Carrier feeds (issue 19 §1): `carrier_pushes`, the record of every carrier event pushed to
Waybill (Kuaidi100 or the generic feed), the order it went to and how it ended; unroutable ones
are listed for operators (GET /v1/carrier-feeds/pushes?outcome=unroutable).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from db.columns import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_pushes",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("feed", sa.String(20), nullable=False),
        sa.Column("carrier", sa.String(120), nullable=False),
        sa.Column("tracking_no", sa.String(120), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("carrier_status", sa.String(60), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("code", sa.String(60), nullable=True),
        sa.Column("pushes", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_carrier_pushes"),
    )
    op.create_index("ix_carrier_pushes_event_id", "carrier_pushes", ["event_id"])
    op.create_index("ix_carrier_pushes_tracking_no", "carrier_pushes", ["tracking_no"])
    op.create_index("ix_carrier_pushes_outcome_last_seen_at", "carrier_pushes",
                    ["outcome", "last_seen_at", "id"])


def downgrade() -> None:
    op.drop_table("carrier_pushes")
