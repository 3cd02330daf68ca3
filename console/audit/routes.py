"""/console/audit: auditors (and admins) pick an order, by id or by when it was created, and read
its business timeline beside its raw Temporal history; both download as JSON Lines or CSV."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from temporalio.service import RPCError

from api.audit import dossier, exports
from api.deps import SessionDep, TemporalDep
from api.edge.deadline import temporal_deadline
from api.edge.units import DbDep
from api.errors import ApiError
from console.audit import story
from console.audit import view as audit
from console.deps import Page, PageDep
from console.pages import security_headers
from db.orders import queries as repo

router = APIRouter()
_KINDS = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def _when(text: str | None, zone: str) -> datetime | None:
    """A datetime-local value is read in the viewer's zone, as every time on the page is."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


@router.get("/audit")
def audit_search(page: PageDep, session: SessionDep,
                 order_id: Annotated[str, Query(max_length=64)] = "",
                 start: Annotated[str, Query(alias="from", max_length=40)] = "",
                 end: Annotated[str, Query(alias="to", max_length=40)] = "") -> Response:
    page.allow("audit")
    order_id = order_id.strip()
    if order_id:
        return RedirectResponse(f"/console/audit/orders/{quote(order_id, safe='')}", 303)
    found, range_error = None, None
    if start or end:
        since, until = _when(start, page.viewer.zone), _when(end, page.viewer.zone)
        if since is None or until is None or since >= until:
            range_error = "audit.error.range"
        else:
            found = audit.orders_created_between(session, since, until)
    return page.render("audit.html", status=422 if range_error else 200, order=None,
                       found=found, range_error=range_error, start=start, end=end,
                       limit=audit.RANGE_LIMIT)


@router.get("/audit/orders/{order_id}")
async def audit_order(order_id: str, page: PageDep, db: DbDep,
                      temporal: TemporalDep) -> Response:
    page.allow("audit")
    if await db.run(repo.get_order, order_id) is None:
        return page.message(404, "order_not_found")
    try:
        async with temporal_deadline(page.settings):
            history = await audit.history_rows(temporal, order_id)
    except (RPCError, ApiError):
        history = None  # the page still shows the timeline; it says the history is unavailable
    return await db.run(_audit_page, page, order_id, history)


def _audit_page(session: Session, page: Page, order_id: str,
                history: list[dict] | None) -> Response:
    order = repo.get_order(session, order_id)
    return page.render("audit.html", order=order, history=history, found=None,
                       range_error=None, start="", end="", limit=audit.RANGE_LIMIT,
                       **story.page_context(session, page.viewer, order_id,
                                            page.request.query_params.getlist("kind")))


def _download(rows: list[dict], fields: tuple[str, ...], order_id: str, what: str, kind: str,
              locale: str) -> Response:
    body = audit.as_jsonl(rows) if kind == "jsonl" else audit.as_csv(rows, fields)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", order_id)
    headers = {**security_headers(locale),
               "Content-Disposition": f'attachment; filename="{safe}-{what}.{kind}"'}
    return Response(body.encode(), media_type=_KINDS[kind], headers=headers)


@router.get("/audit/orders/{order_id}/timeline.{kind}")
def timeline_export(order_id: str, kind: str, page: PageDep, session: SessionDep) -> Response:
    page.allow("audit")
    if kind not in _KINDS or repo.get_order(session, order_id) is None:
        return page.message(404, "order_not_found")
    return _download(audit.timeline_rows(session, order_id), audit.TIMELINE_FIELDS, order_id,
                     "timeline", kind, page.viewer.locale)


@router.get("/audit/orders/{order_id}/history.{kind}")
async def history_export(order_id: str, kind: str, page: PageDep, db: DbDep,
                         temporal: TemporalDep) -> Response:
    page.allow("audit")
    if kind not in _KINDS or await db.run(repo.get_order, order_id) is None:
        return page.message(404, "order_not_found")
    try:
        async with temporal_deadline(page.settings):
            rows = await audit.history_rows(temporal, order_id)
    except (RPCError, ApiError):
        return page.message(503, "unavailable")
    return _download(rows, audit.HISTORY_FIELDS, order_id, "history", kind, page.viewer.locale)


@router.get("/audit/orders/{order_id}/story.{kind}")
def story_export(order_id: str, kind: str, page: PageDep, session: SessionDep) -> Response:
    """The order's whole story in the viewer's language and zone (issue 17 §5): what
    GET /v1/orders/{id}/audit/story.{jsonl,csv} gives, for a signed-in auditor's browser."""
    page.allow("audit")
    if kind not in exports.FORMATS or repo.get_order(session, order_id) is None:
        return page.message(404, "order_not_found")
    body, _ = exports.order_file(session, page.viewer, order_id, kind)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", order_id)
    headers = {**security_headers(page.viewer.locale),
               "Content-Disposition": f'attachment; filename="{safe}-story.{kind}"'}
    return Response(body.encode(), media_type=exports.FORMATS[kind], headers=headers)


@router.get("/audit/orders/{order_id}/dossier.pdf")
def dossier_pdf(order_id: str, page: PageDep, session: SessionDep) -> Response:
    """The order's PDF dossier in the viewer's language and zone (issue 17 §5)."""
    user = page.allow("audit")
    if repo.get_order(session, order_id) is None:
        return page.message(404, "order_not_found")
    body = dossier.render(session, page.settings, page.viewer, order_id, user.name)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", order_id)
    headers = {**security_headers(page.viewer.locale),
               "Content-Disposition": f'attachment; filename="{safe}-dossier.pdf"'}
    return Response(body, media_type="application/pdf", headers=headers)
