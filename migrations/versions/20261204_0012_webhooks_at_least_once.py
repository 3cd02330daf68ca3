"""Webhooks at least once (Standard Webhooks 1.0): delivery log columns, secret rotation.

* `outbox.last_http_status`: the receiver's last answer, shown in the delivery log;
  `outbox.next_attempt_at`: when a retry is due (the sweep leaves a row alone until then);
  `outbox.claim_expires_at`: when a claiming attempt is known to be dead, so the row is sent
  again (at least once) instead of being left `uncertain`;
* `webhook_subscriptions.previous_secret` / `previous_secret_expires_at`: during a rotation's
  overlap window both secrets sign;
* rows left `uncertain` by the at-most-once notifier go back to `pending`, so the sweep
  re-drives them (a receiver de-duplicates on `webhook-id`);
* the receiver's answer body is no longer kept: `last_error` values quoting it are cut to the
  fixed message with the status code.

Downgrading drops the columns; rows are left as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import re

import sqlalchemy as sa
from alembic import op

from db.columns import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

outbox = sa.table("outbox", sa.column("id", sa.String()), sa.column("status", sa.String()),
                  sa.column("claim", sa.String()), sa.column("last_error", sa.String()))
subscriptions = sa.table("webhook_subscriptions", sa.column("id", sa.String()),
                         sa.column("last_error", sa.String()))
ANSWERED = re.compile(r"^(webhook answered \d{3}):.*$", re.DOTALL)


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("last_http_status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("claim_expires_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_outbox_recipient_created_at", ["recipient", "created_at", "id"])
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(sa.Column("previous_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True))
    conn = op.get_bind()
    conn.execute(outbox.update().where(outbox.c.status == "uncertain").values(
        status="pending", claim=None,
        last_error="an attempt was interrupted; sent again (at least once)"))
    for table in (outbox, subscriptions):
        quoting = conn.execute(sa.select(table.c.id, table.c.last_error).where(
            table.c.last_error.like("webhook answered %:%"))).all()
        for row_id, error in quoting:
            conn.execute(table.update().where(table.c.id == row_id)
                         .values(last_error=ANSWERED.sub(r"\1", error)))


def downgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_recipient_created_at")
        batch.drop_column("claim_expires_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("last_http_status")
