"""An order's audit chain: verify it, or export it to verify offline (issue 17 §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.audit import dossier, exports, service
from api.audit.schemas import ChainVerdict
from api.deps import Principal, SessionDep, SettingsDep, require
from api.errors import ApiError
from api.orders import story as story_api

router = APIRouter(prefix="/v1/orders", tags=["audit"])

Auditor = Annotated[Principal, Depends(require("order.audit"))]
JSONL = "application/x-ndjson; charset=utf-8"


@router.get("/{order_id}/audit/verify", response_model=ChainVerdict,
            description="Walks the order's audit chain (its events, escalation steps, claim and "
                        "complaint events and documents) and names the first broken link: a "
                        "row edited, deleted or inserted around the chain, a link edited, "
                        "deleted or reordered, or a head that no longer matches its signed "
                        "checkpoint.")
def verify_chain(order_id: str, _: Auditor, session: SessionDep,
                 settings: SettingsDep) -> ChainVerdict:
    return service.verify(session, settings, order_id)


@router.get("/{order_id}/audit/chain", response_class=Response,
            responses={200: {"content": {JSONL: {}},
                             "description": "a link a line, each with its row's canonical "
                                            "content (null if the row is gone)"}},
            description="The order's audit chain as JSON Lines, to verify offline with the "
                        "README's script.")
def export_chain(order_id: str, _: Auditor, session: SessionDep) -> Response:
    body = "".join(service.export_lines(session, order_id))
    return Response(body, media_type=JSONL, headers={
        "Content-Disposition": f'attachment; filename="audit-chain-{_safe(order_id)}.jsonl"'})


def _safe(order_id: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in order_id)


# Issue 17 §5: the order's story as files an auditor opens (api/audit/exports.py).
Lang = Annotated[str | None, Query(max_length=20, description="zh-CN or en; unset = the "
                                   "Accept-Language header's choice, else zh-CN")]
Zone = Annotated[str | None, Query(max_length=64, description="IANA zone the times are written "
                                   "in; unset = the console's zone setting")]
Kinds = Annotated[list[str], Query(max_length=20, description="story kinds, as the timeline's")]


@router.get("/{order_id}/audit/story.{fmt}", response_class=Response,
            responses={200: {"content": {JSONL: {}, "text/csv": {}}}},
            description="The order's whole story (order, escalations, claims, complaints, "
                        "notifications) as JSON Lines (an item a line) or CSV (UTF-8 BOM, "
                        "headers in the chosen language); each item with its sentence as the "
                        "console shows it and its event and record times to the second with "
                        "the zone's offset. `X-Waybill-Truncated: true` if the story was cut.")
def export_story(order_id: str, fmt: Literal["jsonl", "csv"], _: Auditor, request: Request,
                 session: SessionDep, settings: SettingsDep, lang: Lang = None,
                 tz: Zone = None, kind: Kinds = []) -> Response:  # noqa: B006 - FastAPI's default
    viewer = exports.viewer_for(lang, tz, request.headers.get("accept-language"),
                                settings.console_timezone)
    kinds = story_api.parse_kinds(kind)
    service.check_exists(session, order_id)
    body, truncated = exports.order_file(session, viewer, order_id, fmt, kinds)
    return Response(body.encode(), media_type=exports.FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{_safe(order_id)}-story.{fmt}"',
        "Content-Language": viewer.locale, "X-Waybill-Truncated": str(truncated).lower()})


range_router = APIRouter(prefix="/v1/audit", tags=["audit"])


@range_router.get("/export", response_class=StreamingResponse,
                  responses={200: {"content": {JSONL: {}, "text/csv": {}}}},
                  description="Every story item of the orders created in [from, to), order by "
                              "order, streamed as it is read (a page of orders at a time), as "
                              "JSON Lines or CSV. Both ends need a zone; the range spans at most "
                              "WAYBILL_AUDIT_EXPORT_MAX_DAYS days (422 `audit_range_*`).")
def export_range(_: Auditor, request: Request, settings: SettingsDep,
                 start: Annotated[datetime | None, Query(alias="from")] = None,
                 end: Annotated[datetime | None, Query(alias="to")] = None,
                 format: Annotated[str, Query(max_length=10)] = "jsonl",  # noqa: A002 - the API's name
                 lang: Lang = None, tz: Zone = None) -> StreamingResponse:
    if format not in exports.FORMATS:
        raise ApiError(422, "unknown_export_format", f"format is one of {sorted(exports.FORMATS)}",
                       allowed=sorted(exports.FORMATS))
    exports.check_range(start, end, settings.audit_export_max_days)
    assert start is not None and end is not None  # check_range refused a missing end
    viewer = exports.viewer_for(lang, tz, request.headers.get("accept-language"),
                                settings.console_timezone)
    # A sync iterator: Starlette runs each step in the thread pool, so the page reads stay off
    # the event loop, and no connection is held between pages.
    lines = exports.range_lines(request.app.state.sessions, viewer, format, start, end)
    name = f"audit-{start:%Y%m%dT%H%M%S}-{end:%Y%m%dT%H%M%S}.{format}"
    return StreamingResponse(lines, media_type=exports.FORMATS[format], headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Language": viewer.locale})


@router.get("/{order_id}/audit/dossier.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}},
                       503: {"description": "no CJK font installed (`pdf_font_missing`)"}},
            description="A one-order audit dossier as a PDF: the order's header, its story as "
                        "the console tells it (in `lang`, times in `tz`), the documents its "
                        "chain links with their SHA-256, and the chain's verification result.")
def dossier_pdf(order_id: str, who: Auditor, request: Request, session: SessionDep,
                settings: SettingsDep, lang: Lang = None, tz: Zone = None) -> Response:
    viewer = exports.viewer_for(lang, tz, request.headers.get("accept-language"),
                                settings.console_timezone)
    body = dossier.render(session, settings, viewer, order_id, who.name)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_safe(order_id)}-dossier.pdf"',
        "Content-Language": viewer.locale})
