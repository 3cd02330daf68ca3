"""Bulk order imports (issue 19 §4): `order_imports` (one row per uploaded file: who, the
archived file's sha256, status, counts) and `order_import_rows` (each order's outcome).

Revision ID: 0021
Revises: 0017
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_imports",
        sa.Column("import_id", sa.String(40), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_by_role", sa.String(20), nullable=False),
        sa.Column("scope_customers", JsonType, nullable=True),
        sa.Column("filename", sa.String(255), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(10), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("total_orders", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_order_imports")),
    )
    op.create_index(op.f("ix_order_imports_sha256"), "order_imports", ["sha256"])
    op.create_index(op.f("ix_order_imports_status"), "order_imports", ["status"])
    op.create_index(op.f("ix_order_imports_created_at"), "order_imports", ["created_at"])
    op.create_table(
        "order_import_rows",
        sa.Column("import_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("details", JsonType, nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["order_imports.import_id"], ondelete="CASCADE",
                                name=op.f("fk_order_import_rows_import_id_order_imports")),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_order_import_rows")),
    )


def downgrade() -> None:
    op.drop_table("order_import_rows")
    op.drop_index(op.f("ix_order_imports_created_at"), table_name="order_imports")
    op.drop_index(op.f("ix_order_imports_status"), table_name="order_imports")
    op.drop_index(op.f("ix_order_imports_sha256"), table_name="order_imports")
    op.drop_table("order_imports")
