"""The customer's opt-out page: `GET /u/{token}` shows their notice channels, `POST /u/{token}`
sets them (e-mail, SMS, both, none; "stop all messages" is one button).

Public: the signed token (shared/survey_links.py `opt_out_links_for`, in every customer notice)
is the only credential; it names an order, and the choice is stored for that order's customer,
so it applies to all their orders. HTML, zh-CN or en (`?lang=` wins over the customer's
language), its own catalogue (templates/notices/messages/). 404 for a link we did not issue,
400 for a form we cannot read.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.i18n import DEFAULT_LOCALE, LOCALES, load_catalogue, make_translator, match_locale
from api.notices import service
from api.orders.read_model import customer_of
from config import REPO_ROOT
from db.orders import queries as repo
from db.orders.models import Order
from shared.survey_links import SurveyLinks, opt_out_links_for

router = APIRouter(prefix="/u", tags=["notices"], include_in_schema=False)

PAGE_DIR = REPO_ROOT / "templates" / "notices"
MESSAGE_DIR = PAGE_DIR / "messages"


def catalogue(locale: str) -> dict[str, str]:
    return load_catalogue(MESSAGE_DIR, locale)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(PAGE_DIR), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=1)
def _stylesheet() -> tuple[Markup, str]:
    """The page's CSS, inlined (no external assets), and its CSP hash (no 'unsafe-inline')."""
    css = (PAGE_DIR / "notices.css").read_text(encoding="utf-8").strip()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Markup(css), f"'sha256-{digest}'"


def _headers(locale: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": f"default-src 'none'; style-src {_stylesheet()[1]}; "
                                   "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        "Referrer-Policy": "no-referrer",  # the token in the URL is the customer's credential
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
        "Cache-Control": "no-store",
        "Content-Language": locale,
    }


def _links(request: Request) -> SurveyLinks:
    links = getattr(request.app.state, "opt_out_links", None)
    if links is None:
        links = request.app.state.opt_out_links = opt_out_links_for(request.app.state.settings)
    return links


LinksDep = Annotated[SurveyLinks, Depends(_links)]


def _render(locale: str, status: int, state: str, **context: Any) -> HTMLResponse:
    t = make_translator(catalogue(locale))
    title = t(f"{state}_title") if state in ("not_found", "bad_request") else t("title")
    switch = [{"locale": other, "name": catalogue(other)["language_name"]}
              for other in LOCALES if other != locale]
    context = {"order_id": "", "action": "", "email": False, "sms": False, "saved": "",
               "body": t(f"{state}_body") if state in ("not_found", "bad_request") else "",
               **context}
    html = _environment().get_template("page.html").render(
        locale=locale, t=t, css=_stylesheet()[0], switch=switch, state=state, title=title,
        **context)
    return HTMLResponse(html, status_code=status, headers=_headers(locale))


def _order(session: Session, links: SurveyLinks, token: str) -> Order | None:
    order_id = links.order_id(token)
    return repo.get_order(session, order_id) if order_id else None


def _locale(lang: str | None, order: Order | None) -> str:
    customer = customer_of(order).language if order is not None else None
    return match_locale(lang) or match_locale(customer) or DEFAULT_LOCALE


@router.get("/{token}", response_class=HTMLResponse)
def opt_out_page(token: str, session: SessionDep, links: LinksDep,
                 lang: str | None = None) -> HTMLResponse:
    order = _order(session, links, token)
    locale = _locale(lang, order)
    if order is None:
        return _render(locale, 404, "not_found")
    chosen = service.get(session, order.customer_id)
    return _render(locale, 200, "form", order_id=order.order_id,
                   action=f"{token}?lang={locale}", email=chosen.email, sms=chosen.sms)


@router.post("/{token}", response_class=HTMLResponse)
def set_channels(token: str, session: SessionDep, links: LinksDep,
                 action: Annotated[str, Form(max_length=20)] = "save",
                 email: Annotated[str | None, Form(max_length=10)] = None,
                 sms: Annotated[str | None, Form(max_length=10)] = None,
                 lang: str | None = None) -> HTMLResponse:
    order = _order(session, links, token)
    locale = _locale(lang, order)
    if order is None:
        return _render(locale, 404, "not_found")
    if action not in ("save", "stop_all"):
        return _render(locale, 400, "bad_request")
    want_email = action == "save" and email == "on"
    want_sms = action == "save" and sms == "on"
    chosen = service.put(session, order.customer_id, want_email, want_sms, service.CUSTOMER)
    t = make_translator(catalogue(locale))
    return _render(locale, 200, "saved", order_id=order.order_id,
                   action=f"{token}?lang={locale}", email=chosen.email, sms=chosen.sms,
                   saved=t(f"saved_{chosen.choice.value}"))
