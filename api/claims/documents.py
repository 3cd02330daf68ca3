"""A claim's documents: the accident report, the delivery note, photos.

The file goes into the content-addressed archive first, then a `document_added` event naming
it goes to the claim, so an event never names a document the archive lacks. Once an accident
report and a delivery note are both on file (and the customer was contacted) the claim's
evidence is collected.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from api.claims.schemas import ClaimDocumentUploaded
from api.claims.service import load_claim, submit_claim_event
from api.claims.views import document_view
from api.deps import (
    ArchiveDep,
    Principal,
    SettingsDep,
    TemporalDep,
    require,
)
from api.documents.archive import (
    DOCUMENT_CONTENT,
    archive_and_record,
    default_filename,
    fetch_verified,
    serve,
    verified_headers,
)
from api.documents.uploads import Upload, read_upload
from api.edge.units import DbDep
from api.errors import ApiError
from api.events.rejections import rejected
from workflows.claim.types import DocumentKind

log = logging.getLogger("waybill.api.claims")

router = APIRouter(prefix="/v1/claims", tags=["claims"])

Actor = Annotated[Principal, Depends(require("claim.document.upload"))]
Reader = Annotated[Principal, Depends(require("claim.document.read"))]

_KINDS = [k.value for k in DocumentKind]
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file", "kind"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "PDF, JPEG or PNG"},
        "kind": {"type": "string", "enum": _KINDS}}}}}}}


def event_id_for(kind: str, sha256: str) -> str:
    """The same bytes as the same kind are the same document: a repeat adds nothing."""
    return f"doc-{kind}-{sha256[:32]}"


@router.post(
    "/{claim_id}/documents", status_code=201, response_model=ClaimDocumentUploaded,
    openapi_extra=_UPLOAD_BODY,
    responses={200: {"description": "these bytes were already on the claim as this kind"},
               404: {"description": "claim_not_found"},
               409: {"description": "invalid_transition: the claim is closed"},
               413: {"description": "file_too_large"},
               415: {"description": "unsupported_media_type: not a PDF, JPEG or PNG"},
               422: {"description": "validation_error (kind), missing_file, empty_file, "
                                    "invalid_multipart"},
               503: {"description": "archive_unavailable"}})
async def upload_document(claim_id: str, request: Request, response: Response, who: Actor,
                          db: DbDep, client: TemporalDep, settings: SettingsDep,
                          archive: ArchiveDep) -> ClaimDocumentUploaded:
    row = await db.run(load_claim, claim_id)
    upload = await read_upload(request, settings.receipt_max_bytes)
    kind = upload.fields.get("kind", "")
    if kind not in _KINDS:
        raise ApiError(422, "validation_error", "the request is not valid", errors=[{
            "loc": ["body", "kind"], "msg": f"kind must be one of {', '.join(_KINDS)}",
            "type": "enum"}])
    if row.state == "closed" and not _on_file(row.detail, kind, upload.sha256):
        raise rejected("invalid_transition", "the claim is closed", claim_id=claim_id,
                       current_step="closed", event_type="document_added")
    await archive_and_record(db, archive, upload, who.name, log, row.order_id)
    try:
        accepted = await submit_claim_event(db, client, settings, claim_id,
                                            _event_body(kind, upload), who)
        duplicate = accepted.duplicate
    except ApiError as exc:
        if exc.code != "event_id_reused":
            raise
        duplicate = True  # the same bytes and kind, sent before under another file name
    row = await db.run(load_claim, claim_id)  # its projection was written since we read it
    doc = _on_file(row.detail, kind, upload.sha256)
    if doc is None:
        # Cannot happen while the claim projects before answering; retrying is safe.
        raise ApiError(503, "document_not_projected", "the document was accepted but the claim "
                       "does not show it yet; send it again", claim_id=claim_id,
                       headers={"Retry-After": "1"})
    if duplicate:
        response.status_code = 200
    return ClaimDocumentUploaded(**document_view(claim_id, doc).model_dump(), claim_id=claim_id,
                                 duplicate=duplicate, step=row.step, state=row.state)


@router.get(
    "/{claim_id}/documents/{sha256}", response_class=Response,
    responses={200: {"description": "the document, exactly as uploaded",
                     "content": DOCUMENT_CONTENT},
               404: {"description": "claim_not_found, document_not_found"},
               500: {"description": "document_corrupt or document_missing"}})
async def download_document(claim_id: str, sha256: str, _: Reader, db: DbDep,
                            archive: ArchiveDep) -> Response:
    row = await db.run(load_claim, claim_id)
    doc = next((d for d in (row.detail or {}).get("documents") or []
                if d["sha256"] == sha256), None)
    if doc is None:
        raise ApiError(404, "document_not_found", f"claim {claim_id} has no document {sha256}",
                       claim_id=claim_id, sha256=sha256)
    data = await fetch_verified(archive, sha256, {"claim_id": claim_id, "sha256": sha256}, log,
                                noun="document", log_noun="claim document")
    content_type = doc.get("content_type") or "application/octet-stream"
    filename = doc.get("filename") or default_filename(f"{claim_id}-{doc['kind']}", content_type)
    return serve(data, filename, verified_headers(sha256))


def _on_file(detail: dict[str, Any] | None, kind: str, sha256: str) -> dict[str, Any] | None:
    return next((d for d in (detail or {}).get("documents") or []
                 if d["sha256"] == sha256 and d["kind"] == kind), None)


def _event_body(kind: str, upload: Upload) -> dict[str, Any]:
    return {"event_id": event_id_for(kind, upload.sha256), "type": "document_added",
            "occurred_at": None,
            "data": {"kind": kind, "sha256": upload.sha256, "filename": upload.filename,
                     "content_type": upload.content_type, "size": len(upload.data)}}

