"""/console/webhooks (admins): the webhook subscriptions with their failure state, a
subscription's delivery log, and the buttons that redeliver a message or re-enable a
subscription. The same service as the API (api/notifications/service.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.notifications import service
from api.notifications.schemas import public_error
from console.deps import PageDep
from db.notifications import subscriptions as repo
from db.notifications.models import REDELIVERABLE, OutboxStatus

router = APIRouter()
ACTION = "webhooks"
PAGE_SIZE = 50


def _detail(page: PageDep, session: SessionDep, subscription_id: str, status: str,
            cursor: str | None, http_status: int = 200, error: str | None = None,
            done: str | None = None) -> Response:
    try:
        sub = service.load(session, subscription_id)
        wanted = OutboxStatus(status) if status else None
        rows, next_cursor = service.delivery_page(session, subscription_id, wanted, PAGE_SIZE,
                                                  cursor)
    except ApiError as exc:
        if exc.code == "subscription_not_found":
            return page.message(404, "webhooks.not_found")
        return page.message(400, "bad_request")  # a cursor this page did not make
    except ValueError:
        return page.message(400, "bad_request")
    return page.render("webhook.html", status=http_status, sub=sub, rows=rows,
                       next_cursor=next_cursor, status_filter=status,
                       statuses=[s.value for s in OutboxStatus], error=error, done=done,
                       redeliverable={s.value for s in REDELIVERABLE},
                       public_error=public_error)


@router.get("/webhooks")
def webhooks(page: PageDep, session: SessionDep) -> Response:
    page.allow(ACTION)
    return page.render("webhooks.html", subs=repo.list_all(session), public_error=public_error)


@router.get("/webhooks/{subscription_id}")
def webhook(subscription_id: str, page: PageDep, session: SessionDep,
            status: Annotated[str, Query(max_length=20)] = "",
            cursor: Annotated[str | None, Query(max_length=200)] = None,
            done: Annotated[str, Query(max_length=20)] = "") -> Response:
    page.allow(ACTION)
    return _detail(page, session, subscription_id, status, cursor,
                   done=done if done in ("redelivered", "enabled") else None)


@router.post("/webhooks/{subscription_id}/enable")
async def enable(subscription_id: str, page: PageDep, db: DbDep) -> Response:
    user = page.allow(ACTION)
    await page.form()
    try:
        await db.run(service.set_active, subscription_id, True, user.name)
    except ApiError:
        return page.message(404, "webhooks.not_found")
    return RedirectResponse(f"/console/webhooks/{quote(subscription_id)}?done=enabled", 303)


@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver")
async def redeliver(subscription_id: str, delivery_id: str, page: PageDep,
                    db: DbDep, temporal: TemporalDep) -> Response:
    user = page.allow(ACTION)
    await page.form()
    try:
        await service.redeliver(db, temporal, page.settings, subscription_id, delivery_id,
                                user.name)
    except ApiError as exc:
        if exc.code == "subscription_not_found":
            return page.message(404, "webhooks.not_found")
        if exc.code == "temporal_unavailable":
            return page.message(503, "unavailable")
        status, error = exc.status, f"webhooks.error.{exc.code}"
        return await db.run(lambda session: _detail(page, session, subscription_id, "", None,
                                                    status, error=error))
    return RedirectResponse(f"/console/webhooks/{quote(subscription_id)}?done=redelivered", 303)
