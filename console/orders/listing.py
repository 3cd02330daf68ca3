"""The orders the board leaves out (issue 18 §4): a closed or cancelled stage as a plain list,
newest first, a page at a time (keyset cursors as GET /v1/orders hands out), under the board's
own filters. Linked from the board's closed/cancelled counts."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep
from api.errors import ApiError
from api.orders.read_model import customer_of
from api.pagination import decode_cursor, keyset_page
from console.board.view import DONE_STAGES, FLAGS, TIERS, BoardFilter
from console.deps import PageDep
from db.orders import board as repo

router = APIRouter()
PAGE_SIZE = 50


@router.get("/orders", response_class=HTMLResponse)
def order_list(page: PageDep, session: SessionDep,
               stage: Annotated[str, Query(max_length=20)] = DONE_STAGES[0],
               customer: str | None = None, tier: str | None = None, q: str | None = None,
               cursor: Annotated[str | None, Query(max_length=600)] = None) -> Response:
    page.signed_in()
    if stage not in DONE_STAGES:  # the active stages are the board itself
        return page.message(404, "bad_request")
    params = page.request.query_params
    flt = BoardFilter.parse(customer, tier, q, **{name: params.get(name) for name in FLAGS})
    try:
        after = decode_cursor(cursor) if cursor else None
    except ApiError:
        return page.message(400, "bad_request")
    rows = repo.page_of_stage(session, flt.sql(), stage, PAGE_SIZE + 1, after)
    orders, next_cursor = keyset_page(rows, PAGE_SIZE, lambda o: (o.created_at, o.order_id))
    base = {"stage": stage, **flt.query()}
    return page.render(
        "order_list.html", stage=stage, flt=flt, tiers=TIERS,
        rows=[(o, customer_of(o)) for o in orders],
        next_url=f"/console/orders?{urlencode({**base, 'cursor': next_cursor})}"
        if next_cursor else None,
        first_url=f"/console/orders?{urlencode(base)}" if cursor else None,
        board_url="/console/board" + (f"?{urlencode(flt.query())}" if flt.query() else ""))
