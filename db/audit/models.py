"""The tamper-evident audit chain: a link per audit-relevant row, a head per chain, and signed
checkpoints of the heads.

A chain is an order's (its id), or, for what names no order, a complaint's (`complaint:<id>`).
Links, checkpoints and their heads are append-only (on PostgreSQL the migration's triggers refuse
UPDATE and DELETE). `audit_heads` is not: it is the row appends lock to serialize an order's
links, and a cache of the chain's last link; verification never trusts it alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import UTCDateTime

CHAIN_ID_LENGTH = 200


class AuditLink(Base):
    """One row of an audited table, chained: `hash` covers the chain, the position, the row's
    natural key, the hash of its canonical content and the predecessor's hash
    (db/audit/canonical.py)."""

    __tablename__ = "audit_links"

    order_id: Mapped[str] = mapped_column(String(CHAIN_ID_LENGTH), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1, 2, ... gapless per chain
    table_name: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str] = mapped_column(String(400))  # the natural key as a JSON array
    content_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # A row is linked once, whatever retries its projection.
        UniqueConstraint("table_name", "row_key", name="uq_audit_links_table_name_row_key"),
    )


class AuditHead(Base):
    """The last link of a chain, locked by every append to it; `sealed_seq` is the seq the
    latest checkpoint recorded (a chain with seq > sealed_seq moved since)."""

    __tablename__ = "audit_heads"

    order_id: Mapped[str] = mapped_column(String(CHAIN_ID_LENGTH), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_seq: Mapped[int] = mapped_column(Integer, default=0)


class AuditCheckpoint(Base):
    """A signed record of chain heads (`audit_checkpoint_heads`): HMAC-SHA256 under the key
    `key_id` names, over the heads and the previous checkpoint's signature."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(40))
    prev_signature: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    heads: Mapped[int] = mapped_column(Integer)  # how many chains it records


class AuditCheckpointHead(Base):
    __tablename__ = "audit_checkpoint_heads"

    order_id: Mapped[str] = mapped_column(String(CHAIN_ID_LENGTH), primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                               primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_checkpoint_heads_checkpoint_id", "checkpoint_id"),)
