"""A claim's documents over HTTP: upload one (the accident report, the delivery note, photos)
and download one; what each does is api/claims/document_store.py, which the console calls too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.claims.document_store import KINDS, add_document, download
from api.claims.schemas import ClaimDocumentUploaded
from api.claims.service import load_claim
from api.deps import (
    ArchiveDep,
    Principal,
    SettingsDep,
    TemporalDep,
    require,
)
from api.documents.archive import DOCUMENT_CONTENT
from api.documents.uploads import read_upload
from api.edge.units import DbDep

router = APIRouter(prefix="/v1/claims", tags=["claims"])

Actor = Annotated[Principal, Depends(require("claim.document.upload"))]
Reader = Annotated[Principal, Depends(require("claim.document.read"))]

_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file", "kind"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "PDF, JPEG or PNG"},
        "kind": {"type": "string", "enum": KINDS}}}}}}}


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
    await db.run(load_claim, claim_id)  # an unknown claim is 404 before the file is read
    upload = await read_upload(request, settings.receipt_max_bytes)
    uploaded = await add_document(db, client, settings, archive, claim_id, upload, who)
    if uploaded.duplicate:
        response.status_code = 200
    return uploaded


@router.get(
    "/{claim_id}/documents/{sha256}", response_class=Response,
    responses={200: {"description": "the document, exactly as uploaded",
                     "content": DOCUMENT_CONTENT},
               404: {"description": "claim_not_found, document_not_found"},
               500: {"description": "document_corrupt or document_missing"}})
async def download_document(claim_id: str, sha256: str, _: Reader, db: DbDep,
                            archive: ArchiveDep) -> Response:
    return await download(db, archive, claim_id, sha256)
