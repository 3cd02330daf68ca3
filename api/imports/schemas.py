"""HTTP views of a bulk import."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ImportView(BaseModel):
    import_id: str
    status: str = Field(description="queued, running, done or failed")
    filename: str | None
    format: str = Field(description="csv or xlsx")
    sha256: str
    total_rows: int = Field(description="order lines (non-blank rows) in the file")
    total_orders: int
    processed: int = Field(description="orders with an outcome so far")
    progress: float = Field(description="processed / total_orders, 0..1")
    created: int
    duplicates: int = Field(description="orders already created with the same body")
    refused: int
    error: str | None = None
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    report_url: str


class ImportPage(BaseModel):
    items: list[ImportView]
