"""Bulk import in the console (issue 19 §4): the upload page (templates in the viewer's language,
recent imports), an import's page with a live progress bar (static/console/imports.js polls the
small JSON answer below) and, once done, the result and the report in the viewer's language.

Everything goes through api/imports/service.py, the same path as POST /v1/orders/imports; a
refused file comes back as the upload page with the refusal in words.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import ArchiveDep, Principal, SessionDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.imports import report, service
from api.imports.upload import read_import_file
from api.imports.words import message
from console import pages
from console import session as sessions
from console.deps import Page, PageDep, Refused
from console.i18n import catalogue
from db.imports import queries as repo

router = APIRouter()
POLL_SECONDS = 2
RECENT = 20
SHOWN_REFUSALS = 100
ACTION = "order.import"
_TYPES = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# refusal code -> the detail its words name
_NAMED = {"unknown_columns": "unknown", "missing_columns": "missing",
          "duplicate_columns": "columns"}


def _allowed(page: Page) -> sessions.ConsoleUser:
    user = page.signed_in()
    if not user.may(ACTION):
        raise Refused(page.message(403, "forbidden"))
    return user


def _lang(page: Page) -> str:
    return "zh-CN" if page.viewer.locale == "zh-CN" else "en"


def refusal_words(page: Page, exc: ApiError) -> str:
    key = f"import.error.{exc.code}"
    named = exc.details.get(_NAMED.get(exc.code, ""), [])
    args = {"columns": ", ".join(str(c) for c in named),
            "row": exc.details.get("row", ""), "column": exc.details.get("column", ""),
            "max_rows": exc.details.get("max_rows", ""),
            "max_mb": round(exc.details.get("max_bytes", 0) / 1024 / 1024, 1)}
    if key not in catalogue(page.viewer.locale):
        return page.viewer.t("import.error.other", code=exc.code)
    return page.viewer.t(key, **args)


def _list_page(session: Session, page: Page, status: int = 200,
               error: str | None = None) -> Response:
    return page.render("imports.html", status=status, imports=repo.recent(session, RECENT),
                       error=error, lang=_lang(page),
                       max_mb=round(page.settings.import_max_bytes / 1024 / 1024, 1),
                       max_rows=page.settings.import_max_rows)


@router.get("/orders/imports")
def imports_page(page: PageDep, session: SessionDep) -> Response:
    _allowed(page)
    return _list_page(session, page)


@router.post("/orders/imports")
async def upload(page: PageDep, db: DbDep, temporal: TemporalDep,
                 archive: ArchiveDep) -> Response:
    user = _allowed(page)
    try:
        upload = await read_import_file(page.request, page.settings.import_max_bytes)
        # Nothing is stored before this check: reading the upload only buffers it.
        if not sessions.csrf_ok(page.settings, user.nonce, upload.fields.get("csrf")):
            return page.message(403, "csrf")
        started = await service.start(db, temporal, page.settings, archive, upload,
                                      Principal(name=user.name, role=user.role))
    except ApiError as exc:
        if exc.status == 503:
            return page.message(503, "unavailable")
        return await db.run(_list_page, page, status=exc.status,
                            error=refusal_words(page, exc))
    return RedirectResponse(
        f"/console/orders/imports/{quote(started.import_id)}?done=started", 303)


@router.get("/orders/import/template.{fmt}")
def template(fmt: str, page: PageDep) -> Response:
    _allowed(page)
    if fmt not in _TYPES:
        return page.message(404, "import.not_found")
    lang = _lang(page)
    data = report.template_csv(lang) if fmt == "csv" else report.template_xlsx(lang)
    return Response(data, media_type=_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="waybill-orders-{lang}.{fmt}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


@router.get("/orders/imports/{import_id}")
def import_page(import_id: str, page: PageDep, session: SessionDep) -> Response:
    _allowed(page)
    row = repo.get(session, import_id)
    if row is None:
        return page.message(404, "import.not_found")
    lang = _lang(page)
    refusals = [(o.row, o.order_id, message(o.code, o.message, o.details, lang))
                for o in repo.outcomes(session, import_id) if o.outcome == "refused"]
    done = page.request.query_params.get("done") == "started"
    return page.render("import.html", imp=row, refusals=refusals[:SHOWN_REFUSALS],
                       more_refusals=max(0, len(refusals) - SHOWN_REFUSALS), done=done,
                       finished=row.status in ("done", "failed"), poll=POLL_SECONDS,
                       live_url=f"/console/orders/imports/{quote(import_id)}/live")


@router.get("/orders/imports/{import_id}/live")
def import_live(import_id: str, page: PageDep, session: SessionDep) -> Response:
    """The import's progress for the page's poller; 404 when there is no such import."""
    _allowed(page)
    headers = pages.security_headers(page.viewer.locale)
    row = repo.get(session, import_id)
    if row is None:
        return JSONResponse({"status": None}, status_code=404, headers=headers)
    view = service.view(row)
    return JSONResponse({
        "status": view.status, "finished": view.status in ("done", "failed"),
        "processed": view.processed, "total": view.total_orders, "created": view.created,
        "duplicates": view.duplicates, "refused": view.refused,
        "percent": int(view.progress * 100),
        "words": page.viewer.t("import.progress_words", processed=view.processed,
                               total=view.total_orders)}, headers=headers)


@router.get("/orders/imports/{import_id}/report.csv")
def import_report(import_id: str, page: PageDep, session: SessionDep) -> Response:
    _allowed(page)
    if repo.get(session, import_id) is None:
        return page.message(404, "import.not_found")
    lang = _lang(page)
    return Response(service.report_of(session, import_id, lang), media_type=_TYPES["csv"],
                    headers={"Content-Disposition":
                             f'attachment; filename="{import_id}-report-{lang}.csv"',
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
