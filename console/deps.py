"""What every console handler needs: who is looking (user, language, zone), and the checks that
turn a request away (not signed in, role not allowed, CSRF token wrong)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException

from api import permissions
from api.deps import SettingsDep
from config import Settings
from console import pages
from console import session as sessions
from console.i18n import Viewer, viewer

MAX_FORM_BYTES = 16 * 1024
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Refused(Exception):  # noqa: N818 - it carries the page to answer with
    """Raised by a check; the console's exception handler answers with `response`."""

    def __init__(self, response: HTMLResponse | RedirectResponse) -> None:
        self.response = response


@dataclass
class Page:
    request: Request
    settings: Settings
    viewer: Viewer
    user: sessions.ConsoleUser | None

    def render(self, template: str, status: int = 200, csrf: str | None = None,
               **context: Any) -> HTMLResponse:
        return pages.render(template, self.request, self.settings, self.viewer, self.user,
                            status=status, csrf=csrf, **context)

    def message(self, status: int, state: str) -> HTMLResponse:
        return pages.message(self.request, self.settings, self.viewer, self.user, status, state)

    def signed_in(self) -> sessions.ConsoleUser:
        if self.user is None:
            target = self.request.url.path
            if self.request.url.query:
                target += "?" + self.request.url.query
            raise Refused(RedirectResponse(f"/console/sign-in?next={quote(target)}", 303))
        return self.user

    def allow(self, action: str) -> sessions.ConsoleUser:
        """The signed-in user if their role may do `action`; else a 403 page."""
        user = self.signed_in()
        if not user.can(action):
            raise Refused(self.message(403, "forbidden"))
        return user

    async def form(self, max_fields: int = 20) -> dict[str, str]:
        """The posted form, after its CSRF token is checked (403 page if it is wrong)."""
        media_type = self.request.headers.get("content-type", "").split(";")[0].strip().lower()
        length = self.request.headers.get("content-length", "")
        if media_type not in _FORM_TYPES or (length.isdigit() and int(length) > MAX_FORM_BYTES):
            raise Refused(self.message(400, "bad_request"))
        try:
            form = await self.request.form(max_files=0, max_fields=max_fields)
        except HTTPException as exc:
            raise Refused(self.message(400, "bad_request")) from exc
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        nonce = self.user.nonce if self.user else sessions.pre_session_nonce(self.request)
        if not sessions.csrf_ok(self.settings, nonce, fields.get("csrf")):
            raise Refused(self.message(403, "csrf"))
        return fields


def get_page(request: Request, settings: SettingsDep) -> Page:
    # The user first: their stored language and zone come before this browser's cookies.
    # Its own short unit of work (this runs in the thread pool): no connection stays checked
    # out while the page's handler awaits Temporal.
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    user = request.app.state.db.here(lambda session: sessions.read(settings, session, cookie))
    shown = viewer(request, settings, user.locale if user else None, user.zone if user else None)
    return Page(request=request, settings=settings, viewer=shown, user=user)


PageDep = Annotated[Page, Depends(get_page)]


_POLLED = frozenset({"/console/board/columns", "/console/escalations/rows",
                     "/console/orders/{order_id}/live"})


def guard(page: PageDep) -> None:
    """Every console route's entry in the permission table (api/permissions.py `ROUTES`), checked
    before its handler runs: signed out, to the sign-in page; a role without the action, a 403
    page; a route missing from the table, a 403 page too (closed by default). Handlers still say
    what they need (`page.allow`), for the buttons they show."""
    request = page.request
    route = request.scope.get("route")
    method = "GET" if request.method == "HEAD" else request.method
    # Console routes sit in routers included without a prefix of their own, under /console.
    path = sessions.COOKIE_PATH + getattr(route, "path", "")
    action = permissions.ROUTES.get((method, path))
    if action == permissions.PUBLIC:
        return
    if page.user is None and path in _POLLED:
        # A page's poller: a bare 401 makes the page reload (to the sign-in page).
        raise Refused(HTMLResponse(status_code=401,
                                   headers=pages.security_headers(page.viewer.locale)))
    user = page.signed_in()
    request.state.role = user.role.value  # for the access log line
    if action is None or user.role not in permissions.roles_for(action):
        raise Refused(page.message(403, "forbidden"))


def install(app: Any) -> None:
    @app.exception_handler(Refused)
    async def _refused(_: Request, exc: Refused) -> HTMLResponse | RedirectResponse:
        return exc.response
