"""Personal values kept out of the chained rows (issue 17 §6): one row per value, which the
chained row names by a placeholder (db/personal/placeholders.py). Mutable on purpose: redaction
deletes `value` and `salt` and sets `redacted_at`; the placeholder's hash in the chained row
stays, so the chain still verifies, and while a value is kept its hash makes an edit to it
detectable (`waybill audit verify`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime

VALUE_ID_LENGTH = 32


class PersonalValue(Base):
    __tablename__ = "personal_values"

    # sha256 of [table, row key, path], cut: a retried insert of the same row finds its value.
    id: Mapped[str] = mapped_column(String(VALUE_ID_LENGTH), primary_key=True)
    chain: Mapped[str] = mapped_column(String(200))  # the audit chain the row is linked to
    table_name: Mapped[str] = mapped_column(String(40))
    row_key: Mapped[str] = mapped_column(String(400))
    path: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JsonType, nullable=True)  # None once redacted
    salt: Mapped[str | None] = mapped_column(String(32))  # None once redacted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_personal_values_chain", "chain"),)
