"""The console's server-side state: sign-in sessions (so sign-out ends one for good) and each
user's remembered language and time zone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import UTCDateTime


class ConsoleSession(Base):
    """One sign-in. The cookie names it by `nonce`; a row with `ended_at` set is signed out."""

    __tablename__ = "console_sessions"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ConsolePreference(Base):
    """What one user (API key) chose to read the console in; None = not chosen."""

    __tablename__ = "console_preferences"

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    locale: Mapped[str | None] = mapped_column(String(10), nullable=True)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
