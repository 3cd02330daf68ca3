"""Scoped API keys with an expiry (issue 14).

* `api_keys.scope_event_types` / `scope_customers` / `scope_carriers`: JSON lists limiting what
  a key may do (NULL: no limit), checked by api/keys/scope.py;
* `api_keys.expires_at`: past it the key is refused (401 `key_expired`); NULL: never.

Existing keys keep no scope and no expiry, so they work as before. Downgrading drops the
columns (scoped keys then become unlimited: revoke them first).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scope_event_types", JsonType, nullable=True))
        batch.add_column(sa.Column("scope_customers", JsonType, nullable=True))
        batch.add_column(sa.Column("scope_carriers", JsonType, nullable=True))
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scope_carriers")
        batch.drop_column("scope_customers")
        batch.drop_column("scope_event_types")
