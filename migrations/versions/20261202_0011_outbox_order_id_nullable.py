"""Outbox rows not about an order have no order id: NULL.

Notices about no order (the monthly follow-up report, a complaint opened for a customer) were
written with `order_id = ''` because the column could not be null; those rows, and the inbox
items copied from them, get NULL, and so does the `order_id` of the payload a still-pending
webhook row will send. Downgrading writes '' back, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

outbox = sa.table("outbox", sa.column("id", sa.String()), sa.column("order_id", sa.String()),
                  sa.column("status", sa.String()), sa.column("payload", JsonType))
inbox_items = sa.table("inbox_items", sa.column("order_id", sa.String()))


def upgrade() -> None:
    # batch: SQLite cannot ALTER a column's nullability; the table is copied (with its indexes).
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("order_id", existing_type=sa.String(64), nullable=True)
    conn = op.get_bind()
    # Only rows not sent yet: a delivered row records what was actually sent.
    pending = conn.execute(sa.select(outbox.c.id, outbox.c.payload).where(
        outbox.c.order_id == "", outbox.c.status == "pending")).all()
    for row_id, payload in pending:
        conn.execute(outbox.update().where(outbox.c.id == row_id)
                     .values(payload={**payload, "order_id": None}))
    conn.execute(outbox.update().where(outbox.c.order_id == "").values(order_id=None))
    conn.execute(inbox_items.update().where(inbox_items.c.order_id == "").values(order_id=None))


def downgrade() -> None:
    op.get_bind().execute(outbox.update().where(outbox.c.order_id.is_(None)).values(order_id=""))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("order_id", existing_type=sa.String(64), nullable=False)
