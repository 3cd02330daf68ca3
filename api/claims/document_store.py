"""Adding a document to a claim, and finding one on it: what the documents endpoints and the
console's claim page both call.

The file goes into the content-addressed archive first, then a `document_added` event naming
it goes to the claim, so an event never names a document the archive lacks. Once an accident
report and a delivery note are both on file (and the customer was contacted) the claim's
evidence is collected.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Response
from temporalio.client import Client

from api.claims.schemas import ClaimDocumentUploaded
from api.claims.service import load_claim, submit_claim_event
from api.claims.views import document_view
from api.deps import Principal
from api.documents.archive import (
    archive_and_record,
    default_filename,
    fetch_verified,
    serve,
    verified_headers,
)
from api.documents.uploads import Upload
from api.edge.units import Db
from api.errors import ApiError
from api.events.rejections import rejected
from archive import Archive
from config import Settings
from db.claims.models import ClaimRow
from workflows.claim.types import DocumentKind

log = logging.getLogger("waybill.api.claims")

KINDS = [k.value for k in DocumentKind]


def event_id_for(kind: str, sha256: str) -> str:
    """The same bytes as the same kind are the same document: a repeat adds nothing."""
    return f"doc-{kind}-{sha256[:32]}"


def on_file(detail: dict[str, Any] | None, kind: str | None,
            sha256: str) -> dict[str, Any] | None:
    """The claim's document with these bytes (of this kind, if one is named)."""
    return next((d for d in (detail or {}).get("documents") or []
                 if d["sha256"] == sha256 and kind in (None, d["kind"])), None)


def document_of(row: ClaimRow, sha256: str) -> dict[str, Any]:
    """The claim's document with these bytes; 404 `document_not_found` if it has none."""
    doc = on_file(row.detail, None, sha256)
    if doc is None:
        raise ApiError(404, "document_not_found", f"claim {row.id} has no document {sha256}",
                       claim_id=row.id, sha256=sha256)
    return doc


async def download(db: Db, archive: Archive, claim_id: str, sha256: str) -> Response:
    """The claim's document, exactly as uploaded, its bytes checked against their hash.

    Raises:
        ApiError: 404 claim_not_found or document_not_found; 500 document_corrupt or
            document_missing.
    """
    row = await db.run(load_claim, claim_id)
    doc = document_of(row, sha256)
    data = await fetch_verified(archive, sha256, {"claim_id": claim_id, "sha256": sha256}, log,
                                noun="document", log_noun="claim document")
    content_type = doc.get("content_type") or "application/octet-stream"
    filename = doc.get("filename") or default_filename(f"{claim_id}-{doc['kind']}", content_type)
    return serve(data, filename, verified_headers(sha256))


async def add_document(db: Db, client: Client, settings: Settings, archive: Archive,
                       claim_id: str, upload: Upload, who: Principal,
                       source: str | None = None) -> ClaimDocumentUploaded:
    """Archive the upload and record it on the claim as the kind its form field names.

    Raises:
        ApiError: 404 claim_not_found, 409 invalid_transition (closed), 422 validation_error
            (kind), 503 document_not_projected or archive_unavailable.
    """
    row = await db.run(load_claim, claim_id)
    kind = upload.fields.get("kind", "")
    if kind not in KINDS:
        raise ApiError(422, "validation_error", "the request is not valid", errors=[{
            "loc": ["body", "kind"], "msg": f"kind must be one of {', '.join(KINDS)}",
            "type": "enum"}])
    if row.state == "closed" and not on_file(row.detail, kind, upload.sha256):
        raise rejected("invalid_transition", "the claim is closed", claim_id=claim_id,
                       current_step="closed", event_type="document_added")
    await archive_and_record(db, archive, upload, who.name, log, row.order_id)
    try:
        accepted = await submit_claim_event(db, client, settings, claim_id,
                                            _event_body(kind, upload), who, source)
        duplicate = accepted.duplicate
    except ApiError as exc:
        if exc.code != "event_id_reused":
            raise
        duplicate = True  # the same bytes and kind, sent before under another file name
    row = await db.run(load_claim, claim_id)  # its projection was written since we read it
    doc = on_file(row.detail, kind, upload.sha256)
    if doc is None:
        # Cannot happen while the claim projects before answering; retrying is safe.
        raise ApiError(503, "document_not_projected", "the document was accepted but the claim "
                       "does not show it yet; send it again", claim_id=claim_id,
                       headers={"Retry-After": "1"})
    return ClaimDocumentUploaded(**document_view(claim_id, doc).model_dump(), claim_id=claim_id,
                                 duplicate=duplicate, step=row.step, state=row.state)


def _event_body(kind: str, upload: Upload) -> dict[str, Any]:
    return {"event_id": event_id_for(kind, upload.sha256), "type": "document_added",
            "occurred_at": None,
            "data": {"kind": kind, "sha256": upload.sha256, "filename": upload.filename,
                     "content_type": upload.content_type, "size": len(upload.data)}}
