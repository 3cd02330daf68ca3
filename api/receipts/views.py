"""An order's receipt versions, read from its projected state (api/orders/read_model.py)."""

from __future__ import annotations

from api.orders.read_model import Receipt, ReceiptVersion
from api.receipts.schemas import ReceiptVersionView


def receipt_versions(receipt: Receipt | None) -> list[ReceiptVersionView]:
    """Every version, oldest first, each pointing at the one before it.

    Orders whose state predates versioning hold one document and its `returned_at`: that is
    version 1.
    """
    if receipt is None:
        return []
    raw = receipt.versions or [ReceiptVersion(
        **receipt.document.model_dump(), version=1,
        returned_at=receipt.returned_at)]
    views, previous = [], None
    for i, entry in enumerate(raw, start=1):
        views.append(ReceiptVersionView(
            version=entry.version or i, sha256=entry.sha256,
            ref=entry.ref or f"archive:sha256:{entry.sha256}",
            content_type=entry.content_type, size=entry.size, filename=entry.filename,
            returned_at=entry.returned_at, actor=entry.actor, previous_sha256=previous))
        previous = entry.sha256
    return views
