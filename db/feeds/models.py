"""The record of carrier pushes: one row per carrier event and order it was routed to (or
none: unroutable), with its outcome. Mutable (an unroutable event becomes applied once its
order ships), so no personal data: the carrier's words go only into the order's own event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import UTCDateTime


class PushOutcome:
    """How a carrier event ended for one order (`CarrierPush.outcome`)."""

    APPLIED = "applied"  # the order took it
    DUPLICATE = "duplicate"  # the order had it already (a repeated push)
    REFUSED = "refused"  # the order's workflow refused it (e.g. an exception after delivery)
    UNROUTABLE = "unroutable"  # no order has this carrier and tracking number (yet)


class CarrierPush(Base):
    """One carrier event for one order (`order_id` None: routed nowhere).

    `id` is sha256(event id, order id), so a repeated push updates its row instead of adding
    one; `pushes` counts how often the carrier sent it.
    """

    __tablename__ = "carrier_pushes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    feed: Mapped[str] = mapped_column(String(20))
    carrier: Mapped[str] = mapped_column(String(120))
    tracking_no: Mapped[str] = mapped_column(String(120))
    event_id: Mapped[str] = mapped_column(String(128), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    carrier_status: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    order_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(12))
    code: Mapped[str | None] = mapped_column(String(60))  # a refusal's code
    pushes: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_carrier_pushes_outcome_last_seen_at", "outcome", "last_seen_at", "id"),
        Index("ix_carrier_pushes_tracking_no", "tracking_no"),
    )
