"""Rendering console pages: one Jinja environment, the security headers every page carries,
and the page's common context (viewer, user, CSRF token, language switch)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from api.i18n import LOCALES
from config import Settings
from console import session as sessions
from console.i18n import CONSOLE_TEMPLATE_DIR, Viewer, catalogue
from db.personal.fields import REDACTED
from kpis.report_words import in_survey_order

# Scripts and styles come only from /console/static: no inline code, nothing from elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@pass_context
def _shown(context: Context, value: Any) -> Any:
    """Every `{{ value }}`: a value retention redacted (db/personal) reads in the viewer's
    language, on every page, whichever column or JSON field it came from."""
    if isinstance(value, str) and value == REDACTED and "t" in context:
        return context["t"]("story.redacted")
    return value


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(CONSOLE_TEMPLATE_DIR), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      finalize=_shown)
    # Survey scores in the survey's order on every page (issue 18 §6: one score order), not
    # in the order a stored JSON happens to keep.
    env.filters["in_survey_order"] = in_survey_order
    return env


def security_headers(locale: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
        "Cache-Control": "no-store",
        "Content-Language": locale,
        "Vary": "Cookie, Accept-Language",
    }


def csrf_for(request: Request, settings: Settings,
             user: sessions.ConsoleUser | None) -> str:
    nonce = user.nonce if user else sessions.pre_session_nonce(request)
    return sessions.csrf_token(settings, nonce) if nonce else ""


def render(template: str, request: Request, settings: Settings, viewer: Viewer,
           user: sessions.ConsoleUser | None, status: int = 200, csrf: str | None = None,
           **context: Any) -> HTMLResponse:
    languages = [{"locale": loc, "name": catalogue(loc)["language_name"]} for loc in LOCALES]
    html = environment().get_template(template).render(
        t=viewer.t, v=viewer, locale=viewer.locale, user=user, languages=languages,
        csrf=csrf if csrf is not None else csrf_for(request, settings, user),
        path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=security_headers(viewer.locale))


def fragment(template: str, viewer: Viewer, **context: Any) -> HTMLResponse:
    html = environment().get_template(template).render(t=viewer.t, v=viewer,
                                                       locale=viewer.locale, **context)
    return HTMLResponse(html, headers=security_headers(viewer.locale))


def message(request: Request, settings: Settings, viewer: Viewer,
            user: sessions.ConsoleUser | None, status: int, state: str) -> HTMLResponse:
    """A page that only says what happened: `<state>_title` and `<state>_body`."""
    return render("message.html", request, settings, viewer, user, status=status, state=state)
