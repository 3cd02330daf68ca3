"""Claims and their steps.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from db.columns import JsonType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_STEP_TIMES = ("customer_contacted_at", "evidence_collected_at", "liability_decided_at",
               "compensation_set_at", "payout_issued_at", "closed_at")


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("customer_tier", sa.String(20), nullable=False),
        sa.Column("cause", sa.String(20), nullable=False),
        sa.Column("origin", sa.String(30), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("step", sa.String(30), nullable=False),
        sa.Column("awaiting", sa.String(30), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("breached", sa.Boolean(), nullable=False),
        sa.Column("liability", sa.String(20), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("cap_minor", sa.BigInteger(), nullable=True),
        sa.Column("cap_basis", sa.String(20), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("declared_value_minor", sa.BigInteger(), nullable=True),
        sa.Column("override_reason", sa.String(2000), nullable=True),
        sa.Column("override_by", sa.String(120), nullable=True),
        sa.Column("voucher", sa.String(120), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("opened_by", sa.String(120), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        *[sa.Column(name, UTCDateTime(), nullable=True) for name in _STEP_TIMES],
        sa.Column("detail", JsonType, nullable=False),
        sa.Column("updated_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_claims"),
    )
    op.create_index("ix_claims_order_id", "claims", ["order_id"])
    op.create_index("ix_claims_customer_id", "claims", ["customer_id"])
    op.create_index("ix_claims_opened_at_id", "claims", ["opened_at", "id"])
    op.create_index("ix_claims_state_opened_at", "claims", ["state", "opened_at"])
    op.create_index("ix_claims_cause_liability", "claims", ["cause", "liability"])
    op.create_table(
        "claim_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("claim_id", sa.String(80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(160), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("data", JsonType, nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_claim_events"),
        sa.UniqueConstraint("claim_id", "seq", name="uq_claim_events_claim_id_seq"),
        sa.UniqueConstraint("claim_id", "event_id", name="uq_claim_events_claim_id_event_id"),
    )


def downgrade() -> None:
    op.drop_table("claim_events")
    for name in ("ix_claims_cause_liability", "ix_claims_state_opened_at",
                 "ix_claims_opened_at_id", "ix_claims_customer_id", "ix_claims_order_id"):
        op.drop_index(name, "claims")
    op.drop_table("claims")
