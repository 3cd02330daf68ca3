"""Receipts (回单): upload the signed receipt of a delivered order, read back any version.

The document goes into the content-addressed archive first, then a `receipt_returned` event
referencing it goes to the order, so an event never names a document the archive lacks.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.deps import (
    ALL_ROLES,
    ArchiveDep,
    Principal,
    Role,
    SessionDep,
    SettingsDep,
    TemporalDep,
    require,
)
from api.documents import (
    DOCUMENT_CONTENT,
    EXTENSIONS,
    archive_and_record,
    default_filename,
    fetch_verified,
    serve,
    verified_headers,
)
from api.errors import ApiError
from api.order_events import load_order, submit_event
from api.receipt_schemas import ReceiptUploaded, ReceiptVersions, ReceiptVersionView
from api.receipt_views import receipt_versions
from api.schemas import RECEIVED_LEEWAY
from api.uploads import Upload, multipart_body, read_upload
from archive import Archive
from config import Settings
from db import documents
from db import orders as repo
from db.models import Order
from workflows.types import AFTER_DELIVERY, TERMINAL_STAGES, Stage

log = logging.getLogger("waybill.api.receipts")

router = APIRouter(prefix="/v1/orders", tags=["receipts"])

Writer = Annotated[Principal, Depends(require(Role.OPERATOR, Role.SUPERVISOR, Role.INTEGRATION,
                                              Role.ADMIN))]
Reader = Annotated[Principal, Depends(require(*ALL_ROLES))]

def event_id_for(sha256: str) -> str:
    """The same bytes are the same receipt event: a repeated upload cannot add a version."""
    return f"receipt-{sha256[:32]}"


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
        order_id: str, request: Request, response: Response, who: Writer, session: SessionDep,
        client: TemporalDep, settings: SettingsDep, archive: ArchiveDep,
        returned_at: Annotated[datetime | None, Query(
            description="when the signed receipt came back, if it is uploaded later (a batch "
                        "of scans); with a time zone, not in the future; default now")] = None,
) -> ReceiptUploaded:
    returned = _returned_at(returned_at)
    row = load_order(session, order_id)
    check_takes_receipt(row)
    upload = await read_upload(request, settings.receipt_max_bytes)
    stored = await store_receipt(session, client, settings, archive, row, upload, who.name,
                                 who.role.value, returned)
    if stored.duplicate:
        response.status_code = 200
    return stored


def _returned_at(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ApiError(422, "validation_error", "returned_at must carry a time zone",
                       errors=[{"loc": ["query", "returned_at"], "msg": "time zone required"}])
    if value > datetime.now(UTC) + RECEIVED_LEEWAY:
        raise ApiError(422, "validation_error", "returned_at must not be in the future",
                       errors=[{"loc": ["query", "returned_at"], "msg": "in the future"}])
    return value.astimezone(UTC)


def check_takes_receipt(row: Order) -> None:
    """A receipt comes back after delivery (409 order_not_delivered before it)."""
    stage = Stage(row.stage)
    if stage not in AFTER_DELIVERY and stage not in TERMINAL_STAGES:
        raise ApiError(409, "order_not_delivered",
                       f"a receipt comes back after delivery; the order is {stage.value}",
                       order_id=row.order_id, current_stage=stage.value)


async def store_receipt(session: Session, client: Client, settings: Settings, archive: Archive,
                        row: Order, upload: Upload, actor: str, source: str,
                        returned_at: datetime | None = None) -> ReceiptUploaded:
    """Archive a read upload and post it as the order's receipt; the same bytes again are a
    duplicate. Shared by the API and the console, so both refuse and record alike."""
    order_id, stage = row.order_id, Stage(row.stage)
    if repo.find_event(session, order_id, event_id_for(upload.sha256)) is not None:
        return _uploaded(session, order_id, upload, duplicate=True)
    if stage in TERMINAL_STAGES:
        raise ApiError(409, "order_closed", f"the order is {stage.value}: it takes no receipt",
                       order_id=order_id, current_stage=stage.value)

    sha, added = await archive_and_record(session, archive, upload, actor, log)
    try:
        await submit_event(session, client, settings, row,
                           _event_body(order_id, upload, returned_at), actor, source)
    except ApiError as exc:
        session.rollback()
        if exc.code == "event_id_reused" and \
                repo.find_event(session, order_id, event_id_for(sha)) is not None:
            # A concurrent upload of the same bytes got there first, with its own timestamp.
            return _uploaded(session, order_id, upload, duplicate=True)
        if added:
            documents.forget_unreferenced(session, sha, event_id_for(sha))
            session.commit()
        raise
    return _uploaded(session, order_id, upload, duplicate=False)


@router.get("/{order_id}/receipt/versions", response_model=ReceiptVersions)
def list_receipt_versions(order_id: str, _: Reader, session: SessionDep) -> ReceiptVersions:
    row = load_order(session, order_id)
    return ReceiptVersions(order_id=order_id, items=receipt_versions(row.detail.get("receipt")))


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
async def download_receipt(order_id: str, request: Request, _: Reader, session: SessionDep,
                           archive: ArchiveDep,
                           version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    row = load_order(session, order_id)
    chosen = chosen_version(row, version)
    headers = {**verified_headers(chosen.sha256), "X-Receipt-Version": str(chosen.version)}
    if headers["ETag"] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    where = {"order_id": order_id, "sha256": chosen.sha256, "version": chosen.version}
    data = await fetch_verified(archive, chosen.sha256, where, log, noun="receipt")
    content_type = chosen.content_type or "application/octet-stream"
    filename = chosen.filename or \
        default_filename(f"receipt-{order_id}-v{chosen.version}", content_type)
    return serve(data, content_type, filename, headers)


def _event_body(order_id: str, upload: Upload, returned_at: datetime | None) -> dict[str, Any]:
    filename = upload.filename or f"receipt-{order_id}.{EXTENSIONS[upload.content_type]}"
    return {"event_id": event_id_for(upload.sha256), "type": "receipt_returned",
            "occurred_at": (returned_at or datetime.now(UTC)).isoformat(),
            "data": {"document": {"ref": f"archive:sha256:{upload.sha256}",
                                  "sha256": upload.sha256, "content_type": upload.content_type,
                                  "size": len(upload.data), "filename": filename}}}


def _uploaded(session: Session, order_id: str, upload: Upload,
              duplicate: bool) -> ReceiptUploaded:
    session.expire_all()  # the worker's projection has written the order since we read it
    row = load_order(session, order_id)
    versions = [v for v in receipt_versions(row.detail.get("receipt"))
                if v.sha256 == upload.sha256]
    if not versions:
        # Cannot happen while the workflow projects before answering; retrying is safe.
        raise ApiError(503, "receipt_not_projected", "the receipt was accepted but the order "
                       "does not show it yet; send it again", order_id=order_id)
    return ReceiptUploaded(**versions[-1].model_dump(), order_id=order_id, duplicate=duplicate,
                           stage=row.stage)


def chosen_version(row: Order, version: int | None) -> ReceiptVersionView:
    """The asked-for version, or the newest; 404 when there is none."""
    versions = receipt_versions(row.detail.get("receipt"))
    if not versions:
        raise ApiError(404, "receipt_not_found", f"order {row.order_id} has no receipt yet",
                       order_id=row.order_id)
    if version is None:
        return versions[-1]
    if version > len(versions):
        raise ApiError(404, "receipt_version_not_found",
                       f"order {row.order_id} has no receipt version {version}",
                       order_id=row.order_id, versions=len(versions))
    return versions[version - 1]

