"""The in-app inbox: what the caller's team was told (staff notices, alerts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import Principal, SessionDep, require
from api.errors import ApiError
from api.notifications.schemas import InboxItemView, InboxPage
from api.pagination import decode_cursor, keyset_page
from db.notifications import inbox as repo

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])

Staff = Annotated[Principal, Depends(require("inbox.read"))]


@router.get("", response_model=InboxPage,
            description="Items for the caller's team (the API key's team, else its role), "
                        "newest first.")
def list_inbox(who: Staff, session: SessionDep, unread: bool = False,
               limit: int = Query(default=50, ge=1, le=200),
               cursor: str | None = None) -> InboxPage:
    rows = repo.list_items(session, who.team, unread, limit + 1,
                           decode_cursor(cursor) if cursor else None)
    page, next_cursor = keyset_page(rows, limit, lambda r: (r.created_at, r.id))
    return InboxPage(items=[InboxItemView.model_validate(r) for r in page],
                     unread_count=repo.unread_count(session, who.team), next_cursor=next_cursor)


@router.post("/{item_id}/read", response_model=InboxItemView,
             responses={404: {"description": "inbox_item_not_found"}},
             description="Mark an item read for the whole team; marking it again keeps the "
                         "first reader and time.")
def mark_read(item_id: str, who: Staff, session: SessionDep) -> InboxItemView:
    item = repo.mark_read(session, who.team, item_id, who.name, datetime.now(UTC))
    if item is None:
        raise ApiError(404, "inbox_item_not_found", f"no inbox item {item_id} for your team",
                       item_id=item_id)
    return InboxItemView.model_validate(item)
