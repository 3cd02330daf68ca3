"""The order's receipt in the console: view any version (the API's download needs a bearer key;
this serves the same verified bytes to a signed-in viewer) and upload one (multipart, CSRF token
in the form), both through the receipts router's own functions."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response
from temporalio.service import RPCError

from api.deps import ArchiveDep, SessionDep, TemporalDep
from api.documents import default_filename, fetch_verified, serve, verified_headers
from api.errors import ApiError
from api.routers.receipts import check_takes_receipt, chosen_version, store_receipt
from api.uploads import read_upload
from console import session as sessions
from console.deps import PageDep
from console.order_actions import refusal
from console.order_routes import SOURCE
from db import orders as repo

log = logging.getLogger("waybill.console.receipts")
router = APIRouter()


@router.get("/orders/{order_id}/receipt")
async def view_receipt(order_id: str, page: PageDep, session: SessionDep, archive: ArchiveDep,
                       version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    page.signed_in()
    order = repo.get_order(session, order_id)
    if order is None:
        return page.message(404, "order_not_found")
    try:
        chosen = chosen_version(order, version)
        where = {"order_id": order_id, "sha256": chosen.sha256, "version": chosen.version}
        data = await fetch_verified(archive, chosen.sha256, where, log, noun="receipt")
    except ApiError as exc:
        return refusal(page, exc)
    content_type = chosen.content_type or "application/octet-stream"
    filename = chosen.filename or \
        default_filename(f"receipt-{order_id}-v{chosen.version}", content_type)
    return serve(data, content_type, filename,
                 {**verified_headers(chosen.sha256), "X-Receipt-Version": str(chosen.version)})


@router.post("/orders/{order_id}/receipt")
async def upload_receipt(order_id: str, page: PageDep, session: SessionDep,
                         temporal: TemporalDep, archive: ArchiveDep) -> Response:
    user = page.allow("order.receipt_upload")
    order = repo.get_order(session, order_id)
    if order is None:
        return page.message(404, "order_not_found")
    try:
        check_takes_receipt(order)
        upload = await read_upload(page.request, page.settings.receipt_max_bytes)
        # Nothing is stored before this check: reading the upload only hashes it.
        if not sessions.csrf_ok(page.settings, user.nonce, upload.fields.get("csrf")):
            return page.message(403, "csrf")
        await store_receipt(session, temporal, page.settings, archive, order, upload,
                            user.name, SOURCE)
    except ApiError as exc:
        return refusal(page, exc)
    except RPCError:
        return page.message(503, "unavailable")
    return RedirectResponse(f"/console/orders/{quote(order_id)}#receipt", 303)
