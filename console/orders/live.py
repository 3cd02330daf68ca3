"""The order page's live side (issue 18 §5): a small JSON answer the page polls every few
seconds, the order's change mark. When it moves, the page says "changed — reload" (or, while
the order is still being set up, reloads itself); static/console/order.js does the polling."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from console import pages
from console.deps import PageDep
from db.orders import board as repo

router = APIRouter()
POLL_SECONDS = 5
_MARK_CHARS = 16


def change_mark(session: Session, order_id: str) -> str | None:
    """A short digest of everything the order page shows that can move on its own (the
    projection, the order's claims, complaints and escalations); None if there is no order."""
    mark = repo.change_mark(session, order_id)
    if mark is None:
        return None
    return hashlib.sha256(repr(mark).encode()).hexdigest()[:_MARK_CHARS]


@router.get("/orders/{order_id}/live")
def order_live(order_id: str, page: PageDep, session: SessionDep) -> Response:
    """{"mark": ...} for the page's poller; 404 when the order is gone. The guard has already
    sent a signed-out poller to the sign-in page, which the script takes as "reload"."""
    headers = pages.security_headers(page.viewer.locale)
    mark = change_mark(session, order_id)
    if mark is None:
        return JSONResponse({"mark": None}, status_code=404, headers=headers)
    return JSONResponse({"mark": mark}, headers=headers)
