"""Claims (理赔) and their timelines: the read model written by ClaimWorkflow's projection.

Columns are what the queue filters on and what claim KPIs count (amount, liability, cause);
the rest (deadlines per step, documents, breaches) is in `detail`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class ClaimRow(Base):
    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_tier: Mapped[str] = mapped_column(String(20))
    cause: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(10))
    step: Mapped[str] = mapped_column(String(30))
    awaiting: Mapped[str | None] = mapped_column(String(30))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    liability: Mapped[str | None] = mapped_column(String(20))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    cap_minor: Mapped[int | None] = mapped_column(BigInteger)
    cap_basis: Mapped[str | None] = mapped_column(String(20))
    weight_kg: Mapped[float | None] = mapped_column(Float)
    declared_value_minor: Mapped[int | None] = mapped_column(BigInteger)
    override_reason: Mapped[str | None] = mapped_column(String(2000))
    override_by: Mapped[str | None] = mapped_column(String(120))
    voucher: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str | None] = mapped_column(String(20))
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    customer_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evidence_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    liability_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    compensation_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payout_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)
    updated_seq: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_claims_opened_at_id", "opened_at", "id"),
        Index("ix_claims_state_opened_at", "state", "opened_at"),
        Index("ix_claims_cause_liability", "cause", "liability"),
    )


class ClaimEvent(Base):
    """The claim's timeline: posted events and the claim's own entries (deadlines, closing)."""

    __tablename__ = "claim_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    claim_id: Mapped[str] = mapped_column(String(80))
    seq: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(160))
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JsonType)
    body_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("claim_id", "seq", name="uq_claim_events_claim_id_seq"),
        UniqueConstraint("claim_id", "event_id", name="uq_claim_events_claim_id_event_id"),
    )
