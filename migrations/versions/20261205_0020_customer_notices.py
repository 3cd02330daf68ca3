"""Customer notices (issue 19 §3): each customer's channel choice and opt-out,
`customer_notice_preferences` (db/notifications/models.py CustomerNoticePreference). A customer
without a row gets every channel their order gives an address for.

Revision ID: 0020
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from db.columns import UTCDateTime

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_notice_preferences",
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("sms", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_notice_preferences"),
    )


def downgrade() -> None:
    op.drop_table("customer_notice_preferences")
