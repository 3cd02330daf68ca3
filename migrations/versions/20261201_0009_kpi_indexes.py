"""KPIs: each order's receipt deadline, and indexes that select a period's events by their time.

The receipt deadline is backfilled for orders already delivered, from each order's own policy
snapshot, exactly as the order workflow computes it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from datetime import UTC, timedelta

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ORDER_TIMES = ("confirmed_at", "picked_at", "shipped_at", "delivered_at", "receipt_due_at",
               "receipt_archived_at", "followed_up_at")


def _backfill() -> None:
    from policies import from_snapshot
    from workflows.calendar import add_working_time

    orders = sa.table("orders", sa.column("order_id", sa.String()),
                      sa.column("delivered_at", UTCDateTime()),
                      sa.column("sla_policy_snapshot", JsonType),
                      sa.column("receipt_due_at", UTCDateTime()))
    conn = op.get_bind()
    rows = conn.execute(sa.select(orders.c.order_id, orders.c.delivered_at,
                                  orders.c.sla_policy_snapshot)
                        .where(orders.c.delivered_at.is_not(None))).all()
    for order_id, delivered, snap in rows:
        policy = from_snapshot(snap)
        delivered = delivered.astimezone(UTC)
        due = (delivered + timedelta(seconds=policy.receipt_within) if policy.calendar is None
               else add_working_time(delivered, policy.receipt_within, policy.calendar))
        conn.execute(orders.update().where(orders.c.order_id == order_id)
                     .values(receipt_due_at=due))


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("receipt_due_at", UTCDateTime(), nullable=True))
    _backfill()
    for column in ORDER_TIMES:
        op.create_index(f"ix_orders_{column}", "orders", [column])
    op.create_index("ix_escalations_opened_at", "escalations", ["opened_at"])
    op.create_index("ix_escalations_resolved_at", "escalations", ["resolved_at"])
    op.create_index("ix_escalation_events_action_at", "escalation_events", ["action", "at"])


def downgrade() -> None:
    op.drop_index("ix_escalation_events_action_at", table_name="escalation_events")
    op.drop_index("ix_escalations_resolved_at", table_name="escalations")
    op.drop_index("ix_escalations_opened_at", table_name="escalations")
    for column in ORDER_TIMES:
        op.drop_index(f"ix_orders_{column}", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("receipt_due_at")
