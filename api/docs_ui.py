"""/docs (Swagger UI) and /redoc from assets installed with the package, never a CDN.

The JavaScript and CSS come from the `fastapi-offline` wheel (its `static/` folder: Swagger UI
and ReDoc bundles); Waybill serves them under /docs/static, so the pages work on a machine
without internet access and load nothing from elsewhere (no Google Fonts, no Swagger
validator badge). With `docs_require_key` the pages and /openapi.json need any valid API key
(`Authorization: Bearer`) or a console session.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from api.errors import ApiError
from config import Settings
from console import session as console_sessions
from db.keys.queries import lookup_key, refusal

ASSETS = Path(str(files("fastapi_offline") / "static"))
STATIC = "/docs/static"
OPENAPI_URL = "/openapi.json"

_bearer = HTTPBearer(auto_error=False)


def _allowed(request: Request,
             creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Any valid API key or console session, when `docs_require_key` is on; a plain `def`
    (thread pool) with its own short unit of work, like api.deps.require."""
    settings: Settings = request.app.state.settings
    if not settings.docs_require_key:
        return
    db = request.app.state.db
    if creds is not None and creds.scheme.lower() == "bearer" \
            and refusal(db.read_here(lookup_key, creds.credentials)) is None:
        return
    cookie = request.cookies.get(console_sessions.SESSION_COOKIE)
    if cookie and db.here(lambda s: console_sessions.read(settings, s, cookie)) is not None:
        return
    raise ApiError(401, "unauthorized", "the API documentation needs an API key: "
                   "Authorization: Bearer <key>")


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the docs pages and their assets; build the app with docs_url=redoc_url=None (and
    openapi_url=None when the key is required: then /openapi.json is served here)."""
    app.mount(STATIC, StaticFiles(directory=ASSETS), name="docs-static")
    router = APIRouter(include_in_schema=False, dependencies=[Depends(_allowed)])

    @router.get("/docs", response_class=HTMLResponse)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL, title=f"{app.title} - API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
            # validatorUrl: Swagger UI would otherwise send the document to a public validator.
            swagger_ui_parameters={"validatorUrl": None})

    @router.get("/redoc", response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=OPENAPI_URL, title=f"{app.title} - ReDoc",
                              redoc_js_url=f"{STATIC}/redoc.standalone.js",
                              redoc_favicon_url=f"{STATIC}/favicon.png",
                              with_google_fonts=False)

    if settings.docs_require_key:
        @router.get(OPENAPI_URL)
        def openapi() -> JSONResponse:
            return JSONResponse(app.openapi())

    app.include_router(router)
