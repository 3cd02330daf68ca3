"""The order's receipt in the console: view any version (the API's download needs a bearer key;
this serves the same verified bytes to a signed-in viewer) and upload one (multipart, CSRF token
in the form), both through the receipts router's own functions. A refused upload brings back the
order page with the refusal at the upload form (issue 18 §5), not a page without the order."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from api.deps import ArchiveDep, TemporalDep
from api.documents.archive import default_filename, fetch_verified, serve, verified_headers
from api.documents.uploads import read_upload
from api.edge.units import DbDep
from api.errors import ApiError
from api.receipts import service as receipts
from console import session as sessions
from console.deps import PageDep
from console.orders.routes import SOURCE, order_response, refusal_words

log = logging.getLogger("waybill.console.receipts")
router = APIRouter()


@router.get("/orders/{order_id}/receipt")
async def view_receipt(order_id: str, page: PageDep, db: DbDep, archive: ArchiveDep,
                       version: Annotated[int | None, Query(ge=1, le=10_000)] = None
                       ) -> Response:
    page.signed_in()
    try:
        chosen = await db.run(receipts.receipt_of, order_id, version)
        where = {"order_id": order_id, "sha256": chosen.sha256, "version": chosen.version}
        data = await fetch_verified(archive, chosen.sha256, where, log, noun="receipt")
    except ApiError as exc:
        if exc.code == "order_not_found":
            return page.message(404, "order_not_found")
        return page.message(exc.status, refusal_words(page, exc)[0].removesuffix("_title"))
    content_type = chosen.content_type or "application/octet-stream"
    filename = chosen.filename or \
        default_filename(f"receipt-{order_id}-v{chosen.version}", content_type)
    return serve(data, filename,
                 {**verified_headers(chosen.sha256), "X-Receipt-Version": str(chosen.version)})


@router.post("/orders/{order_id}/receipt")
async def upload_receipt(order_id: str, page: PageDep, db: DbDep,
                         temporal: TemporalDep, archive: ArchiveDep) -> Response:
    user = page.allow("order.receipt_upload")
    try:
        await db.run(receipts.takes_receipt, order_id)
        upload = await read_upload(page.request, page.settings.receipt_max_bytes)
        # Nothing is stored before this check: reading the upload only hashes it.
        if not sessions.csrf_ok(page.settings, user.nonce, upload.fields.get("csrf")):
            return page.message(403, "csrf")
        await receipts.store_receipt(db, temporal, page.settings, archive, order_id, upload,
                                     user.name, SOURCE)
    except ApiError as exc:
        if exc.code == "order_not_found":
            return page.message(404, "order_not_found")
        return await db.run(order_response, page, order_id, exc.status,
                            action_error=refusal_words(page, exc), action_form="receipt")
    return RedirectResponse(f"/console/orders/{quote(order_id)}?done=receipt", 303)
