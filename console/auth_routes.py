"""Sign-in with an API key, sign-out, and the viewer's language and time zone."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.deps import client_address
from api.edge.auth_failures import AuthFailures
from api.edge.units import DbDep
from console import session as sessions
from console.deps import Page, PageDep
from console.i18n import LANG_COOKIE, TZ_COOKIE, all_zones, match_locale, valid_zone
from db.console import queries as console_db
from db.keys.queries import find_key, refusal

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
async def sign_in(page: PageDep, db: DbDep) -> Response:
    form = await page.form()
    return await db.run(_sign_in, page, form)


def _sign_in(session: Session, page: Page, form: dict[str, str]) -> Response:
    # Failed sign-ins count with the API's failed authentications (api/edge/auth_failures.py):
    # past the limit, 429 before the key is looked up.
    failures: AuthFailures = page.request.app.state.auth_failures
    address = client_address(page.request)
    if (retry := failures.retry_after(address)) is not None:
        response = _sign_in_form(page, form.get("next"), "error_too_many_failures", 429)
        response.headers["Retry-After"] = str(retry)
        return response
    given = form.get("api_key", "").strip()
    key = find_key(session, given) if given else None
    if (reason := refusal(key)) is not None or key is None:
        failures.record(address, reason or "unknown", given, via="console")
        return _sign_in_form(page, form.get("next"), "error_key_invalid", 401)
    if key.role not in sessions.CONSOLE_ROLES:
        return _sign_in_form(page, form.get("next"), "error_key_role", 403)
    response = RedirectResponse(_next(form.get("next")), 303)
    sessions.start(response, page.request, page.settings, session, key)
    # This browser takes the user's stored choice, so the sign-in page reads the same after
    # they sign out again.
    if (chosen := console_db.get_preference(session, key.id)) is not None:
        _remember(response, page, chosen.locale, chosen.zone)
    return response


@router.post("/sign-out")
async def sign_out(page: PageDep, db: DbDep) -> Response:
    await page.form()
    response = RedirectResponse("/console/sign-in", 303)
    await db.run(lambda session: sessions.end(response, session, page.user))
    return response


@router.get("/preferences", response_class=HTMLResponse)
def preferences_page(page: PageDep) -> Response:
    page.signed_in()
    return page.render("preferences.html", zones=all_zones(), next="/console/preferences")


@router.post("/preferences")
async def save_preferences(page: PageDep, db: DbDep) -> Response:
    """Language and/or zone: kept for the signed-in user (so it follows them to any browser) and
    in this browser's cookies for a year. Works signed out too (cookies only), so the sign-in
    page can switch language. A value the console does not know is refused and nothing changes.
    """
    form = await page.form()
    given_lang, given_tz = form.get("lang", "").strip(), form.get("tz", "").strip()
    locale, zone = match_locale(given_lang), valid_zone(given_tz)
    if (given_lang and locale is None) or (given_tz and zone is None):
        return page.message(400, "bad_preference")
    response = RedirectResponse(_next(form.get("next")), 303)
    if page.user is not None and (locale or zone):
        await db.run(console_db.save_preference, page.user.key_id, datetime.now(UTC), locale,
                     zone)
    _remember(response, page, locale, zone)
    return response


def _remember(response: Response, page: Page, locale: str | None, zone: str | None) -> None:
    if locale:
        sessions.set_cookie(response, page.request, LANG_COOKIE, locale, PREF_MAX_AGE)
    if zone:
        sessions.set_cookie(response, page.request, TZ_COOKIE, zone, PREF_MAX_AGE)
