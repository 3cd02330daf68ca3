"""Receipts (回单): upload the signed receipt of a delivered order, read back any version.

The document goes into the content-addressed archive first, then a `receipt_returned` event
referencing it goes to the order, so an event never names a document the archive lacks.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import (
    ArchiveDep,
    Principal,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require,
)
from api.documents.archive import (
    DOCUMENT_CONTENT,
    default_filename,
    fetch_verified,
    serve,
    verified_headers,
)
from api.documents.uploads import multipart_body, read_upload
from api.edge.units import DbDep
from api.keys import scope as key_scope
from api.orders.read_model import detail_of
from api.orders.service import load_order
from api.receipts import service
from api.receipts.schemas import ReceiptUploaded, ReceiptVersions
from api.receipts.views import receipt_versions
from workflows.order.types import EventType

log = logging.getLogger("waybill.api.receipts")

router = APIRouter(prefix="/v1/orders", tags=["receipts"])

Writer = Annotated[Principal, Depends(require("receipt.upload"))]
Reader = Annotated[Principal, Depends(require("receipt.read"))]

@router.post(
    "/{order_id}/receipt", status_code=201, response_model=ReceiptUploaded,
    openapi_extra=multipart_body(description="the signed receipt"),
    responses={200: {"description": "these bytes were already uploaded for this order"},
               404: {"description": "order_not_found"},
               409: {"description": "order_not_delivered, order_closed, or a workflow "
                                    "rejection such as invalid_transition"},
               413: {"description": "file_too_large"},
               415: {"description": "unsupported_media_type: not a PDF, JPEG or PNG"},
               422: {"description": "missing_file, empty_file, invalid_multipart"},
               503: {"description": "archive_unavailable"}})
async def upload_receipt(
        order_id: str, request: Request, response: Response, who: Writer, db: DbDep,
        client: TemporalDep, settings: SettingsDep, archive: ArchiveDep,
        returned_at: Annotated[datetime | None, Query(
            description="when the signed receipt came back, if it is uploaded later (a batch "
                        "of scans); with a time zone, not in the future; default now")] = None,
) -> ReceiptUploaded:
    returned = service.returned_at(returned_at)
    if key_scope.limited(who):  # an upload is the receipt coming back
        await db.run(key_scope.check_order, order_id, who, "receipt.upload",
                     EventType.RECEIPT_RETURNED.value)
    await db.run(service.takes_receipt, order_id)  # refused before the upload is read
    upload = await read_upload(request, settings.receipt_max_bytes)
    stored = await service.store_receipt(db, client, settings, archive, order_id, upload,
                                         who.name, who.role.value, returned)
    if stored.duplicate:
        response.status_code = 200
    return stored


@router.get("/{order_id}/receipt/versions", response_model=ReceiptVersions)
def list_receipt_versions(order_id: str, _: Reader, session: SessionDep) -> ReceiptVersions:
    row = load_order(session, order_id)
    return ReceiptVersions(order_id=order_id, items=receipt_versions(detail_of(row).receipt))


@router.get(
    "/{order_id}/receipt",
    response_class=Response,
    responses={200: {"description": "the document, exactly as uploaded",
                     "content": DOCUMENT_CONTENT},
               304: {"description": "If-None-Match matched: the client's copy is current"},
               404: {"description": "order_not_found, receipt_not_found, "
                                    "receipt_version_not_found"},
               500: {"description": "document_corrupt or document_missing: the archived bytes "
                                    "no longer match their hash"}})
async def download_receipt(order_id: str, request: Request, _: Reader, db: DbDep,
                           archive: ArchiveDep,
                           version: Annotated[int | None, Query(ge=1, le=10_000)] = None
                           ) -> Response:
    chosen = await db.run(service.receipt_of, order_id, version)
    headers = {**verified_headers(chosen.sha256), "X-Receipt-Version": str(chosen.version)}
    if headers["ETag"] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    where = {"order_id": order_id, "sha256": chosen.sha256, "version": chosen.version}
    data = await fetch_verified(archive, chosen.sha256, where, log, noun="receipt")
    content_type = chosen.content_type or "application/octet-stream"
    filename = chosen.filename or \
        default_filename(f"receipt-{order_id}-v{chosen.version}", content_type)
    return serve(data, filename, headers)
