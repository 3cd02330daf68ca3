"""The customer's tracking page: `GET /t/{token}` from the signed link in every customer
notice, and the lookup `GET /t` (form) / `POST /t` (tracking number + last four phone digits,
rate-limited; a match redirects to the order's `/t/{token}`).

Public (the signed token, or the lookup's two answers, is the only credential), HTML, zh-CN
or en, read-only, no cookies, no scripts. Every outcome is a page with its own status: 200
page or form, 303 to the order's page, 404 unknown link or no match (one answer, whichever
input was wrong), 422 a malformed query, 429 too many lookups (with Retry-After), 413/415 a
body that is not a small form.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api import customer_pages
from api.deps import SessionDep, SettingsDep, client_address, survey_links, tracking_links
from api.edge.units import DbDep
from api.orders.read_model import customer_of
from api.tracking.lookup import Attempts, Query, matching_order, parse_query
from api.tracking.view import LATEST_SCANS, tracking_view
from api.tracking.words import (
    LOCALES,
    TRACKING_TEMPLATE_DIR,
    catalogue,
    choose_locale,
    translator,
)
from db.orders import queries as repo
from db.orders.models import Order
from db.orders.tracking import latest_scans, orders_by_tracking_no
from shared.survey_links import SurveyLinks

log = logging.getLogger("waybill.tracking")

router = APIRouter(prefix="/t", tags=["tracking"], include_in_schema=False)

MAX_FORM_BYTES = 4 * 1024  # two short fields
STYLESHEET = TRACKING_TEMPLATE_DIR / "tracking.css"


async def _state(request: Request) -> tuple[SurveyLinks, SurveyLinks, Attempts]:
    """The app's tracking and survey links and its lookup limit, made on first use."""
    state = request.app.state
    if getattr(state, "tracking_lookups", None) is None:
        state.tracking_lookups = Attempts(state.settings.tracking_lookups_per_minute)
    return tracking_links(request), survey_links(request), state.tracking_lookups


StateDep = Annotated[tuple[SurveyLinks, SurveyLinks, Attempts], Depends(_state)]


def _render(template: str, locale: str, status: int, state: str, title: str,
            **context: Any) -> HTMLResponse:
    return customer_pages.render(STYLESHEET, template, locale, status, catalogue,
                                 translator(locale), state=state, title=title, **context)


def _not_found(locale: str) -> HTMLResponse:
    """An unknown link, in the chosen language and then the other (whoever opens a bad link,
    we cannot know their language from it)."""
    others = [{"locale": o, "t": translator(o)} for o in LOCALES if o != locale]
    return _render("not_found.html", locale, 404, "not_found",
                   translator(locale)("not_found_title"), others=others)


def _lookup_form(locale: str, status: int, query: Query | None = None,
                 no_match: bool = False, retry_after: int | None = None) -> HTMLResponse:
    t = translator(locale)
    page = _render("lookup.html", locale, status,
                   "too_many" if retry_after else "no_match" if no_match else "lookup",
                   t("lookup_title"), query=query or Query("", ""), no_match=no_match,
                   retry_after=retry_after, action=f"t?lang={locale}")
    if retry_after:
        page.headers["Retry-After"] = str(retry_after)
    return page


# -- the order's page ---------------------------------------------------------------------


def _page_data(session: Session, links: SurveyLinks, token: str
               ) -> tuple[Order | None, list[Any]]:
    order_id = links.order_id(token)
    order = repo.get_order(session, order_id) if order_id else None
    if order is None:
        return None, []
    return order, latest_scans(session, order.order_id, LATEST_SCANS)


@router.get("/{token}", response_class=HTMLResponse)
def tracking_page(token: str, request: Request, session: SessionDep, settings: SettingsDep,
                  state: StateDep, lang: str | None = None) -> HTMLResponse:
    tracking, survey, _ = state
    order, scans = _page_data(session, tracking, token)
    accept = request.headers.get("accept-language")
    if order is None:
        return _not_found(choose_locale(lang, None, accept))
    locale = choose_locale(lang, customer_of(order).language, accept)
    view = tracking_view(order, scans, datetime.now(UTC), settings.business_timezone)
    survey_url = f"../s/{survey.token(order.order_id)}?lang={locale}" \
        if view.survey_open else None
    return _render("page.html", locale, 200, "order", translator(locale)("page_title"),
                   view=view, survey_url=survey_url, lookup_url=f"../t?lang={locale}")


# -- the lookup ---------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def lookup_form(request: Request, lang: str | None = None) -> HTMLResponse:
    return _lookup_form(choose_locale(lang, None, request.headers.get("accept-language")), 200)


def _find(session: Session, query: Query) -> str | None:
    order = matching_order(orders_by_tracking_no(session, query.spellings), query.phone_tail)
    return order.order_id if order else None


@router.post("", response_class=HTMLResponse)
async def lookup(request: Request, db: DbDep, state: StateDep,
                 lang: str | None = None) -> Response:
    tracking, _, attempts = state
    locale = choose_locale(lang, None, request.headers.get("accept-language"))
    form = await _read_form(request)
    if isinstance(form, int):
        return _render("message.html", locale, form, "bad_request",
                       translator(locale)("bad_request_title"),
                       body=translator(locale)("bad_request_body"))
    query = parse_query(form.get("tracking_no"), form.get("phone_tail"))
    keys = [f"address:{client_address(request)}"]
    if not query.errors:
        keys.append(f"tracking_no:{query.tracking_no.upper()}")
    retry_after = attempts.take(*keys)
    if retry_after is not None:
        log.warning("tracking lookup limited", extra={
            "client": client_address(request), "retry_after": retry_after})
        return _lookup_form(locale, 429, query, retry_after=retry_after)
    if query.errors:
        return _lookup_form(locale, 422, query)
    order_id = await db.run(_find, query)
    if order_id is None:
        # One answer for an unknown number and for wrong digits: no oracle.
        return _lookup_form(locale, 404, Query(query.tracking_no, ""), no_match=True)
    return RedirectResponse(f"t/{tracking.token(order_id)}?lang={locale}", status_code=303,
                            headers={"Cache-Control": "no-store",
                                     "Referrer-Policy": "no-referrer"})


async def _read_form(request: Request) -> dict[str, str] | int:
    """The posted fields (the last value of each), or the status refusing the request
    (customer_pages.read_form)."""
    form = await customer_pages.read_form(request, MAX_FORM_BYTES, max_fields=10)
    if isinstance(form, int):
        return form
    return {name: value for name, value in form.multi_items() if isinstance(value, str)}
