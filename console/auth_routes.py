"""Sign-in with an API key, sign-out, and the viewer's language and time zone."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from console import session as sessions
from console.deps import PageDep
from console.i18n import LANG_COOKIE, TZ_COOKIE, all_zones, match_locale, valid_zone
from db.keys import find_active_key

router = APIRouter()
PREF_MAX_AGE = 365 * 24 * 3600


def _next(target: str | None) -> str:
    """Only a console path of this site: never an open redirect."""
    if target and target.startswith("/console/") and not target.startswith("/console//") \
            and "\\" not in target:
        return target
    return "/console/board"


@router.get("/", include_in_schema=False)
def console_home() -> RedirectResponse:
    return RedirectResponse("/console/board", 303)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(page: PageDep, next: str | None = None) -> Response:  # noqa: A002
    if page.user is not None:
        return RedirectResponse(_next(next), 303)
    return _sign_in_form(page, next, None, 200)


def _sign_in_form(page: PageDep, next_: str | None, error: str | None, status: int) -> Response:
    nonce = sessions.pre_session_nonce(page.request) or secrets.token_urlsafe(16)
    response = page.render("sign_in.html", status=status,
                           csrf=sessions.csrf_token(page.settings, nonce),
                           next=_next(next_), error=error)
    sessions.set_cookie(response, page.request, sessions.PRE_SESSION_COOKIE, nonce, 3600)
    return response


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(page: PageDep, session: SessionDep) -> Response:
    form = await page.form()
    key = find_active_key(session, form.get("api_key", "").strip())
    if key is None:
        return _sign_in_form(page, form.get("next"), "error_key_invalid", 401)
    if key.role not in sessions.CONSOLE_ROLES:
        return _sign_in_form(page, form.get("next"), "error_key_role", 403)
    response = RedirectResponse(_next(form.get("next")), 303)
    sessions.start(response, page.request, page.settings, key)
    return response


@router.post("/sign-out")
async def sign_out(page: PageDep) -> Response:
    await page.form()
    response = RedirectResponse("/console/sign-in", 303)
    sessions.end(response)
    return response


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(page: PageDep) -> Response:
    page.signed_in()
    return page.render("preferences.html", zones=all_zones(), next="/console/preferences")


@router.post("/preferences")
async def save_preferences(page: PageDep) -> Response:
    """Language and/or zone; remembered in this browser for a year. Works signed out too, so
    the sign-in page can switch language."""
    form = await page.form()
    response = RedirectResponse(_next(form.get("next")), 303)
    if locale := match_locale(form.get("lang")):
        sessions.set_cookie(response, page.request, LANG_COOKIE, locale, PREF_MAX_AGE)
    if zone := valid_zone(form.get("tz")):
        sessions.set_cookie(response, page.request, TZ_COOKIE, zone, PREF_MAX_AGE)
    return response
