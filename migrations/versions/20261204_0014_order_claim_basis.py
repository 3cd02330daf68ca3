"""The claims' compensation basis on the order: `orders.declared_value_minor`, `weight_kg`.

Given at order creation, they are the basis of every claim's compensation standard (issue 14
§3): a claim no longer takes its cap from the request that sets the amount. Existing orders
have none (a supervisor records a basis on their claims).

Downgrading drops the columns.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("declared_value_minor", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("weight_kg", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("weight_kg")
        batch.drop_column("declared_value_minor")
