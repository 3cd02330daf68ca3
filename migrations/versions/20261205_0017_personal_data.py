"""Personal data out of the chained rows (issue 17 §6): `personal_values`, the mutable side
table the chained rows' placeholders name (db/personal/). Rows stored before this revision keep
their personal values inline: rewriting them would break the chain (README, "Retention of
personal data").

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_values",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("chain", sa.String(200), nullable=False),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("row_key", sa.String(400), nullable=False),
        sa.Column("path", sa.String(100), nullable=False),
        sa.Column("value", JsonType, nullable=True),
        sa.Column("salt", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("redacted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_personal_values"),
    )
    op.create_index("ix_personal_values_chain", "personal_values", ["chain"])


def downgrade() -> None:
    op.drop_index("ix_personal_values_chain", "personal_values")
    op.drop_table("personal_values")
