"""The audit chain (issue 17 §3): `audit_links`, `audit_heads`, `audit_checkpoints` and
`audit_checkpoint_heads`; rows already stored are linked; append-only triggers on PostgreSQL.

Existing rows get their links in table order (order events, escalation steps, claim events,
complaint events, then documents), each table by its surrogate id. Documents recorded before
the chain name no order: they go to the chain `archive`.

On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE on the chained tables and on the
links and checkpoints (not on `audit_heads`, which every append moves). Triggers rather than
privileges: Waybill migrates and runs with one database role, the tables' owner, and an owner
is never refused by privileges (it may grant them back to itself); a trigger refuses the owner
too unless it drops the trigger, which a migration would (and which needs DDL, not a stray
UPDATE). A deployment with a separate application role can REVOKE UPDATE, DELETE as well.

Downgrading drops the triggers and the four tables.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from db.audit import canonical
from db.columns import JsonType, UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

APPEND_ONLY = ("order_events", "escalation_events", "claim_events", "complaint_events",
               "documents", "audit_links", "audit_checkpoints", "audit_checkpoint_heads")
LEGACY_DOCUMENTS_CHAIN = "archive"
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_links",
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(40), nullable=False),
        sa.Column("row_key", sa.String(400), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "seq", name="pk_audit_links"),
        sa.UniqueConstraint("table_name", "row_key", name="uq_audit_links_table_name_row_key"),
    )
    op.create_table(
        "audit_heads",
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_audit_heads"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(40), nullable=False),
        sa.Column("prev_signature", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("heads", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_checkpoints"),
    )
    op.create_table(
        "audit_checkpoint_heads",
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("checkpoint_id", _BIG_ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "checkpoint_id", name="pk_audit_checkpoint_heads"),
    )
    op.create_index("ix_audit_checkpoint_heads_checkpoint_id", "audit_checkpoint_heads",
                    ["checkpoint_id"])
    _link_existing_rows()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION waybill_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'waybill: % on % is refused: the table is append-only '
                    '(a correction is a new row)', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END $$""")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION waybill_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION waybill_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS waybill_append_only()")
    op.drop_index("ix_audit_checkpoint_heads_checkpoint_id", "audit_checkpoint_heads")
    op.drop_table("audit_checkpoint_heads")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_heads")
    op.drop_table("audit_links")


def _table(name: str, *columns: str) -> Any:
    types: dict[str, Any] = {"data": JsonType, "detail": JsonType, "seq": sa.Integer,
                             "level": sa.Integer, "size": sa.BigInteger, "id": sa.Integer}
    times = {"occurred_at", "recorded_at", "at", "created_at", "linked_at"}
    return sa.table(name, *(sa.column(c, UTCDateTime() if c in times else
                                      types.get(c, sa.String)) for c in columns))


def _existing() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(chain, table, row) of every stored row, in the order they are linked."""
    bind = op.get_bind()
    events = _table("order_events", "id", *canonical.MEANING["order_events"])
    for row in bind.execute(sa.select(events).order_by(events.c.id)).mappings():
        yield row["order_id"], "order_events", dict(row)
    steps = _table("escalation_events", "id", *canonical.MEANING["escalation_events"])
    ladders = _table("escalations", "id", "order_id", "subject")
    for row in bind.execute(
            sa.select(steps, ladders.c.order_id.label("chain_order"), ladders.c.subject)
            .join(ladders, ladders.c.id == steps.c.escalation_id)
            .order_by(steps.c.id)).mappings():
        yield (canonical.escalation_chain(row["chain_order"], row["subject"]),
               "escalation_events", dict(row))
    claim_events = _table("claim_events", "id", *canonical.MEANING["claim_events"])
    claims = _table("claims", "id", "order_id")
    for row in bind.execute(
            sa.select(claim_events, claims.c.order_id)
            .join(claims, claims.c.id == claim_events.c.claim_id)
            .order_by(claim_events.c.id)).mappings():
        yield row["order_id"], "claim_events", dict(row)
    complaint_events = _table("complaint_events", "id", *canonical.MEANING["complaint_events"])
    complaints = _table("complaints", "id", "order_id")
    for row in bind.execute(
            sa.select(complaint_events, complaints.c.order_id)
            .join(complaints, complaints.c.id == complaint_events.c.complaint_id)
            .order_by(complaint_events.c.id)).mappings():
        yield (canonical.complaint_chain(row["order_id"], row["complaint_id"]),
               "complaint_events", dict(row))
    documents = _table("documents", *canonical.MEANING["documents"])
    for row in bind.execute(sa.select(documents).order_by(documents.c.created_at,
                                                          documents.c.sha256)).mappings():
        yield LEGACY_DOCUMENTS_CHAIN, "documents", dict(row)


def _link_existing_rows() -> None:
    heads: dict[str, tuple[int, str]] = {}
    links: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    links_table = _table("audit_links", "order_id", "seq", "table_name", "row_key",
                         "content_hash", "prev_hash", "hash", "linked_at")
    for chain, table, row in _existing():
        seq, prev = heads.get(chain, (0, canonical.GENESIS))
        key = canonical.row_key(table, row)
        content_hash = canonical.sha256(canonical.content(table, row))
        link = canonical.link_hash(chain, seq + 1, table, key, content_hash, prev)
        links.append({"order_id": chain, "seq": seq + 1, "table_name": table, "row_key": key,
                      "content_hash": content_hash, "prev_hash": prev, "hash": link,
                      "linked_at": now})
        heads[chain] = (seq + 1, link)
        if len(links) >= 1000:
            op.get_bind().execute(sa.insert(links_table), links)
            links = []
    if links:
        op.get_bind().execute(sa.insert(links_table), links)
    if heads:
        op.get_bind().execute(
            sa.insert(_table("audit_heads", "order_id", "seq", "hash", "sealed_seq")),
            [{"order_id": chain, "seq": seq, "hash": link, "sealed_seq": 0}
             for chain, (seq, link) in heads.items()])
