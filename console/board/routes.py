"""The board: orders by stage, filtered; the columns fragment the page polls to stay live."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep
from console import pages
from console.board.view import CARDS_PER_COLUMN, FLAGS, TIERS, BoardFilter, board, now
from console.deps import PageDep

router = APIRouter()
POLL_SECONDS = 3


def _filter(page: PageDep, customer: str | None, tier: str | None, q: str | None
            ) -> BoardFilter:
    params = page.request.query_params
    return BoardFilter.parse(customer, tier, q, **{name: params.get(name) for name in FLAGS})


def _context(session: SessionDep, flt: BoardFilter) -> dict[str, object]:
    at = now()
    query = urlencode(flt.query())
    return {"board": board(session, flt, at), "now": at, "cap": CARDS_PER_COLUMN,
            "filter_query": f"&{query}" if query else ""}


@router.get("/board", response_class=HTMLResponse)
def board_page(page: PageDep, session: SessionDep, customer: str | None = None,
               tier: str | None = None, q: str | None = None) -> Response:
    page.signed_in()
    flt = _filter(page, customer, tier, q)
    query = urlencode(flt.query())
    return page.render("board.html", flt=flt, tiers=TIERS, poll_seconds=POLL_SECONDS,
                       columns_url="/console/board/columns" + (f"?{query}" if query else ""),
                       **_context(session, flt))


@router.get("/board/columns", response_class=HTMLResponse)
def board_columns(page: PageDep, session: SessionDep, customer: str | None = None,
                  tier: str | None = None, q: str | None = None) -> Response:
    """Just the columns, for the page's poller; 401 (and the page reloads to sign in) when the
    session has ended."""
    if page.user is None:
        return Response(status_code=401, headers=pages.security_headers(page.viewer.locale))
    flt = _filter(page, customer, tier, q)
    return pages.fragment("_columns.html", page.viewer, **_context(session, flt))
