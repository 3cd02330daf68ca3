"""HTTP views of an order's receipt (回单) versions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ReceiptVersionView(BaseModel):
    version: int = Field(ge=1)
    sha256: str
    content_type: str | None = None
    size: int | None = None
    filename: str | None = None
    ref: str
    returned_at: datetime | None = None
    actor: str | None = None
    previous_sha256: str | None = Field(
        default=None, description="the version before this one; None for version 1")


class ReceiptUploaded(ReceiptVersionView):
    order_id: str
    duplicate: bool = Field(description="these bytes were already this order's receipt")
    stage: str


class ReceiptVersions(BaseModel):
    order_id: str
    items: list[ReceiptVersionView]
