"""The customer's opt-out page: `GET /u/{token}` shows their notice channels, `POST /u/{token}`
sets them (e-mail, SMS, both, none; "stop all messages" is one button).

Public: the signed token (shared/survey_links.py `opt_out_links_for`, in every customer notice)
is the only credential; it names an order, and the choice is stored for that order's customer,
so it applies to all their orders. HTML, zh-CN or en (`?lang=` wins over the customer's
language), its own catalogue (templates/notices/messages/). 404 for a link we did not issue,
400 for a form we cannot read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api import customer_pages
from api.deps import OptOutLinksDep, SessionDep
from api.i18n import DEFAULT_LOCALE, load_catalogue, make_translator, match_locale
from api.notices import service
from api.orders.read_model import customer_of
from config import REPO_ROOT
from db.orders import queries as repo
from db.orders.models import Order
from shared.survey_links import SurveyLinks

router = APIRouter(prefix="/u", tags=["notices"], include_in_schema=False)

PAGE_DIR = REPO_ROOT / "templates" / "notices"
MESSAGE_DIR = PAGE_DIR / "messages"
STYLESHEET = PAGE_DIR / "notices.css"


def catalogue(locale: str) -> dict[str, str]:
    return load_catalogue(MESSAGE_DIR, locale)


def _render(locale: str, status: int, state: str, **context: Any) -> HTMLResponse:
    t = make_translator(catalogue(locale))
    title = t(f"{state}_title") if state in ("not_found", "bad_request") else t("title")
    context = {"order_id": "", "action": "", "email": False, "sms": False, "saved": "",
               "body": t(f"{state}_body") if state in ("not_found", "bad_request") else "",
               **context}
    return customer_pages.render(STYLESHEET, "page.html", locale, status, catalogue, t,
                                 state=state, title=title, **context)


def _order(session: Session, links: SurveyLinks, token: str) -> Order | None:
    order_id = links.order_id(token)
    return repo.get_order(session, order_id) if order_id else None


def _locale(lang: str | None, order: Order | None) -> str:
    customer = customer_of(order).language if order is not None else None
    return match_locale(lang) or match_locale(customer) or DEFAULT_LOCALE


@router.get("/{token}", response_class=HTMLResponse)
def opt_out_page(token: str, session: SessionDep, links: OptOutLinksDep,
                 lang: str | None = None) -> HTMLResponse:
    order = _order(session, links, token)
    locale = _locale(lang, order)
    if order is None:
        return _render(locale, 404, "not_found")
    chosen = service.get(session, order.customer_id)
    return _render(locale, 200, "form", order_id=order.order_id,
                   action=f"{token}?lang={locale}", email=chosen.email, sms=chosen.sms)


@router.post("/{token}", response_class=HTMLResponse)
def set_channels(token: str, session: SessionDep, links: OptOutLinksDep,
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
