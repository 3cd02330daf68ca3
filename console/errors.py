"""The console's page for a failure the API would answer with a 5xx envelope: in the viewer's
language, naming the request id, without touching the database (it may be what failed)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from config import Settings
from console import pages
from console.i18n import viewer

_STATES = {"database_unavailable": "unavailable_db", "temporal_unavailable": "unavailable"}


def error_page(request: Request, status: int, code: str, rid: str | None,
               headers: dict[str, str] | None) -> HTMLResponse:
    settings: Settings = getattr(request.app.state, "settings", None) or Settings()
    shown = viewer(request, settings)
    state = _STATES.get(code, "server_error")
    response = pages.render("message.html", request, settings, shown, None, status=status,
                            csrf="", state=state, request_id=rid)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if rid:
        response.headers["X-Request-ID"] = rid
    return response
