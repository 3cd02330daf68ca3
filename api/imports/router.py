"""Bulk order import over HTTP (issue 19 §4): the template, the upload, the import's progress
and its per-order report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from api.deps import ArchiveDep, Principal, SessionDep, SettingsDep, TemporalDep, require
from api.documents.uploads import multipart_body
from api.edge.units import DbDep
from api.errors import ApiError
from api.imports import report, service
from api.imports.schemas import ImportPage, ImportView
from api.imports.upload import read_import_file
from api.keys import scope as key_scope

router = APIRouter(prefix="/v1/orders", tags=["imports"])

Importer = Annotated[Principal, Depends(require("order.import"))]
Lang = Annotated[Literal["en", "zh-CN"], Query(description="language of headers and words")]

_TYPES = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def attachment(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get("/import/template.{fmt}", response_class=Response,
            responses={200: {"description": "an empty import file with one example order",
                             "content": {t: {} for t in _TYPES.values()}},
                       404: {"description": "unknown_format: not csv or xlsx"}})
def import_template(fmt: str, _: Importer, lang: Lang = "en") -> Response:
    if fmt not in _TYPES:
        raise ApiError(404, "unknown_format", f"no template as {fmt!r}: csv or xlsx",
                       allowed=sorted(_TYPES))
    data = report.template_csv(lang) if fmt == "csv" else report.template_xlsx(lang)
    return attachment(data, f"waybill-orders-{lang}.{fmt}", _TYPES[fmt])


@router.post("/imports", status_code=202, response_model=ImportView,
             openapi_extra=multipart_body(description="the orders: CSV (UTF-8 or GBK) or XLSX"),
             responses={413: {"description": "file_too_large, too_many_rows"},
                        415: {"description": "unsupported_import_format"},
                        422: {"description": "missing_file, empty_file, invalid_multipart, "
                                             "unknown_columns, missing_columns, "
                                             "duplicate_columns, no_rows, cell_too_long, "
                                             "unreadable_encoding, invalid_csv"},
                        503: {"description": "archive_unavailable, temporal_unavailable"}})
async def upload_import(request: Request, who: Importer, db: DbDep, client: TemporalDep,
                        settings: SettingsDep, archive: ArchiveDep) -> ImportView:
    key_scope.check_event_type(who, None, "order.create")
    upload = await read_import_file(request, settings.import_max_bytes)
    return await service.start(db, client, settings, archive, upload, who)


@router.get("/imports", response_model=ImportPage)
def list_imports(who: Importer, session: SessionDep,
                 limit: Annotated[int, Query(ge=1, le=100)] = 20) -> ImportPage:
    items = service.recent(session, limit)
    if key_scope.limited(who):
        items = [i for i in items if i.created_by == who.name]
    return ImportPage(items=items)


def _readable(session: Session, import_id: str, who: Principal) -> ImportView:
    found = service.view_of(session, import_id)
    # A key limited to some customers reads only its own imports (others name other orders).
    if key_scope.limited(who) and found.created_by != who.name:
        raise ApiError(404, "import_not_found", f"import {import_id} does not exist",
                       import_id=import_id)
    return found


@router.get("/imports/{import_id}", response_model=ImportView,
            responses={404: {"description": "import_not_found"}})
def get_import(import_id: str, who: Importer, session: SessionDep) -> ImportView:
    return _readable(session, import_id, who)


@router.get("/imports/{import_id}/report.csv", response_class=Response,
            responses={200: {"description": "one line per order of the file: row, order_id, "
                                            "outcome, code, message",
                             "content": {"text/csv": {}}},
                       404: {"description": "import_not_found"}})
def import_report(import_id: str, who: Importer, session: SessionDep,
                  lang: Lang = "en") -> Response:
    _readable(session, import_id, who)
    data = service.report_of(session, import_id, lang)
    return attachment(data, f"{import_id}-report-{lang}.csv", _TYPES["csv"])
