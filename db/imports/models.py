"""Bulk order imports (issue 19 §4): one row per uploaded file, one per order it held.

The file itself stays in the content-addressed archive (`sha256`); these rows keep only what the
import page and the report show: counts, progress, and each order's outcome with the API's
error code. No cell values are kept here (the report names rows and columns, not their text).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.columns import JsonType, UTCDateTime


class OrderImport(Base):
    __tablename__ = "order_imports"

    import_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_by_role: Mapped[str] = mapped_column(String(20))
    # The uploader key's customer scope (None: any customer), checked on every order.
    scope_customers: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued running done failed
    total_rows: Mapped[int] = mapped_column(Integer)
    total_orders: Mapped[int] = mapped_column(Integer)
    processed: Mapped[int] = mapped_column(Integer, default=0)  # orders with an outcome
    created: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why a run failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OrderImportRow(Base):
    """One order's outcome: `seq` is its place among the file's orders (0-based)."""

    __tablename__ = "order_import_rows"

    import_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("order_imports.import_id", ondelete="CASCADE"),
        primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    row: Mapped[int] = mapped_column(Integer)  # the order's first row in the file
    order_id: Mapped[str] = mapped_column(String(64))  # as the file wrote it (maybe blank)
    outcome: Mapped[str] = mapped_column(String(20))  # created duplicate refused
    code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
