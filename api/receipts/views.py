"""An order's receipt versions, read from its projected state (orders.detail["receipt"])."""

from __future__ import annotations

from typing import Any

from api.receipts.schemas import ReceiptVersionView

_FIELDS = ("sha256", "content_type", "size", "filename", "ref")


def receipt_versions(receipt: dict[str, Any] | None) -> list[ReceiptVersionView]:
    """Every version, oldest first, each pointing at the one before it.

    Orders whose state predates versioning hold one document and its `returned_at`: that is
    version 1.
    """
    if not receipt:
        return []
    raw = receipt.get("versions")
    if not raw:
        document = receipt.get("document") or {}
        raw = [{"version": 1, "returned_at": receipt.get("returned_at"),
                **{k: document.get(k) for k in _FIELDS}}]
    views, previous = [], None
    for i, entry in enumerate(raw, start=1):
        views.append(ReceiptVersionView(
            version=entry.get("version") or i, sha256=entry["sha256"],
            ref=entry.get("ref") or f"archive:sha256:{entry['sha256']}",
            content_type=entry.get("content_type"), size=entry.get("size"),
            filename=entry.get("filename"), returned_at=entry.get("returned_at"),
            actor=entry.get("actor"), previous_sha256=previous))
        previous = entry["sha256"]
    return views

