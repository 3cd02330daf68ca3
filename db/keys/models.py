"""API keys as stored: only a SHA-256 hash of each key, its role, scopes and expiry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    team: Mapped[str | None] = mapped_column(String(120), nullable=True)  # inbox; None = role
    # Scopes (issue 14): None = unlimited; a list limits the key to those event types, customer
    # ids or carriers (db/keys/queries.py, api/keys/scope.py).
    scope_event_types: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    scope_customers: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    scope_carriers: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
