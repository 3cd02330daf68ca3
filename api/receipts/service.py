"""Storing an order's receipt, shared by the API and the console so both refuse and record
alike: the document goes into the content-addressed archive first, then a `receipt_returned`
event naming it goes to the order, so an event never names a document the archive lacks.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from temporalio.client import Client

from api.documents.archive import EXTENSIONS, archive_and_record
from api.documents.uploads import Upload
from api.edge.units import Db
from api.errors import ApiError
from api.orders.read_model import detail_of
from api.orders.schemas import RECEIVED_LEEWAY
from api.orders.service import load_order, order_and_event, submit_event
from api.receipts.schemas import ReceiptUploaded, ReceiptVersionView
from api.receipts.views import receipt_versions
from archive import Archive
from config import Settings
from db.orders.models import Order
from workflows.order.types import AFTER_DELIVERY, TERMINAL_STAGES, Stage

log = logging.getLogger("waybill.api.receipts")


def event_id_for(sha256: str) -> str:
    """The same bytes are the same receipt event: a repeated upload cannot add a version."""
    return f"receipt-{sha256[:32]}"


def returned_at(value: datetime | None) -> datetime | None:
    """When a receipt uploaded later came back: with a zone, not in the future."""
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


def _closed(order_id: str, stage: str) -> ApiError:
    return ApiError(409, "order_closed", f"the order is {stage}: it takes no receipt",
                    order_id=order_id, current_stage=stage)


def takes_receipt(session: Session, order_id: str) -> Order:
    """The order, if it may take a receipt now (404, 409 order_not_delivered otherwise)."""
    row = load_order(session, order_id)
    check_takes_receipt(row)
    return row


async def store_receipt(db: Db, client: Client, settings: Settings, archive: Archive,
                        order_id: str, upload: Upload, actor: str, source: str,
                        returned: datetime | None = None) -> ReceiptUploaded:
    """Archive a read upload and post it as the order's receipt; the same bytes again are a
    duplicate."""
    event_id = event_id_for(upload.sha256)
    row, known = await db.run(order_and_event, order_id, event_id)
    if known is not None:
        return await db.run(_uploaded, order_id, upload, True)
    if Stage(row.stage) in TERMINAL_STAGES:
        raise _closed(order_id, row.stage)
    check_takes_receipt(row)
    await archive_and_record(db, archive, upload, actor, log, order_id)
    try:
        await submit_event(db, client, settings, order_id,
                           _event_body(order_id, upload, returned), actor, source)
    except ApiError as exc:
        if exc.code == "event_id_reused" and \
                (await db.run(order_and_event, order_id, event_id))[1] is not None:
            # A concurrent upload of the same bytes got there first, with its own timestamp.
            return await db.run(_uploaded, order_id, upload, True)
        if exc.code == "invalid_transition" and \
                exc.details.get("current_stage") in {s.value for s in TERMINAL_STAGES}:
            # The order closed while the receipt was on its way: answer as for a closed order.
            raise _closed(order_id, exc.details["current_stage"]) from exc
        raise
    return await db.run(_uploaded, order_id, upload, False)


def _event_body(order_id: str, upload: Upload, returned: datetime | None) -> dict[str, Any]:
    filename = upload.filename or f"receipt-{order_id}.{EXTENSIONS[upload.content_type]}"
    return {"event_id": event_id_for(upload.sha256), "type": "receipt_returned",
            "occurred_at": (returned or datetime.now(UTC)).isoformat(),
            "data": {"document": {"ref": f"archive:sha256:{upload.sha256}",
                                  "sha256": upload.sha256, "content_type": upload.content_type,
                                  "size": len(upload.data), "filename": filename}}}


def _uploaded(session: Session, order_id: str, upload: Upload,
              duplicate: bool) -> ReceiptUploaded:
    row = load_order(session, order_id)
    versions = [v for v in receipt_versions(detail_of(row).receipt)
                if v.sha256 == upload.sha256]
    if not versions:
        # Cannot happen while the workflow projects before answering; retrying is safe.
        raise ApiError(503, "receipt_not_projected", "the receipt was accepted but the order "
                       "does not show it yet; send it again", order_id=order_id,
                       headers={"Retry-After": "1"})
    return ReceiptUploaded(**versions[-1].model_dump(), order_id=order_id, duplicate=duplicate,
                           stage=row.stage)


def chosen_version(row: Order, version: int | None) -> ReceiptVersionView:
    """The asked-for version, or the newest; 404 when there is none."""
    versions = receipt_versions(detail_of(row).receipt)
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


def receipt_of(session: Session, order_id: str, version: int | None) -> ReceiptVersionView:
    return chosen_version(load_order(session, order_id), version)


