"""The customer's follow-up survey page: `GET /s/{token}` shows it, `POST /s/{token}` answers it.

Public (the signed token is the only credential), HTML, zh-CN or en. Every outcome is a page
with its own status: 200 form or thank-you, 404 unknown link, 409 already answered (on POST),
410 closed, 422 answers to correct; nothing is recorded unless the answers are complete.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from temporalio.service import RPCError

from api import customer_pages
from api.deps import SessionDep, SettingsDep, SurveyLinksDep, TemporalDep
from api.edge.units import DbDep
from api.errors import ApiError
from api.orders.read_model import customer_of, detail_of
from api.orders.service import submit_event
from api.survey.form import (
    MAX_SUGGESTIONS,
    SCORE_NAMES,
    SCORES,
    Answers,
    SurveyState,
    parse_answers,
    survey_state,
)
from api.survey.i18n import (
    SURVEY_TEMPLATE_DIR,
    catalogue,
    choose_locale,
    display_time,
    translator,
)
from db.orders import queries as repo
from db.orders.models import Order
from shared.survey_links import SurveyLinks

log = logging.getLogger("waybill.survey")

router = APIRouter(prefix="/s", tags=["survey"], include_in_schema=False)

MAX_FORM_BYTES = 32 * 1024
SOURCE = "survey_link"
STYLESHEET = SURVEY_TEMPLATE_DIR / "survey.css"
# The workflow's answers when the survey stopped awaiting one between our read and its update.
_RACED = {"invalid_transition", "event_id_reused"}


def _render(template: str, locale: str, status: int, state: str, title: str,
            **context: Any) -> HTMLResponse:
    return customer_pages.render(STYLESHEET, template, locale, status, catalogue,
                                 translator(locale), state=state, title=title, **context)


def _message(locale: str, status: int, state: str, order_id: str = "") -> HTMLResponse:
    t = translator(locale)
    return _render("message.html", locale, status, state, t(f"{state}_title"),
                   body=t(f"{state}_body", order_id=order_id))


def _form(locale: str, order: Order, token: str, answers: Answers, status: int) -> HTMLResponse:
    survey = detail_of(order).survey
    return _render(
        "form.html", locale, status, "form", translator(locale)("form_title"),
        order_id=order.order_id, delivered_at=display_time(order.delivered_at),
        expires_at=display_time(survey.expires_at if survey else None),
        action=f"{token}?lang={locale}",
        values=answers.values, errors=answers.errors, summary=answers.summary,
        score_names=SCORE_NAMES, scores=SCORES, max_suggestions=MAX_SUGGESTIONS)


def _closed_page(locale: str, state: SurveyState, order_id: str, posting: bool) -> HTMLResponse:
    """The page for a survey that takes no answer now (state is not OPEN)."""
    if state == SurveyState.ANSWERED:
        return _message(locale, 409 if posting else 200, "answered", order_id)
    if state == SurveyState.CLOSED:
        return _message(locale, 410, "closed", order_id)
    return _message(locale, 409 if posting else 200, "not_yet", order_id)


def _find(session: Session, links: SurveyLinks, token: str) -> Order | None:
    order_id = links.order_id(token)
    return repo.get_order(session, order_id) if order_id else None


def _locale(lang: str | None, order: Order | None) -> str:
    return choose_locale(lang, customer_of(order).language if order else None)


def _open_survey(session: Session, links: SurveyLinks, token: str, lang: str | None,
                 posting: bool) -> tuple[str, Order | HTMLResponse]:
    """The page's locale and the order whose survey takes an answer now, else the page why not.
    """
    order = _find(session, links, token)
    locale = _locale(lang, order)
    if order is None:
        return locale, _message(locale, 404, "not_found")
    state = survey_state(order, datetime.now(UTC))
    if state != SurveyState.OPEN:
        return locale, _closed_page(locale, state, order.order_id, posting=posting)
    return locale, order


@router.get("/{token}", response_class=HTMLResponse)
def survey_page(token: str, session: SessionDep, links: SurveyLinksDep,
                lang: str | None = None) -> HTMLResponse:
    locale, order = _open_survey(session, links, token, lang, posting=False)
    if isinstance(order, HTMLResponse):
        return order
    return _form(locale, order, token, Answers(), 200)


@router.post("/{token}", response_class=HTMLResponse)
async def answer_survey(token: str, request: Request, db: DbDep, links: SurveyLinksDep,
                        temporal: TemporalDep, settings: SettingsDep,
                        lang: str | None = None) -> HTMLResponse:
    locale, order = await db.run(_open_survey, links, token, lang, posting=True)
    if isinstance(order, HTMLResponse):
        return order
    form = await _read_form(request)
    if isinstance(form, int):
        return _message(locale, form, "bad_request", order.order_id)
    answers = parse_answers(form, translator(locale))
    if answers.data is None:
        return _form(locale, order, token, answers, 422)

    body = {"event_id": f"survey-web-{order.order_id}", "type": "survey_response",
            "occurred_at": datetime.now(UTC).isoformat(), "data": answers.data}
    try:
        result = await submit_event(db, temporal, settings, order.order_id, body,
                                    actor=f"customer:{order.customer_id}", source=SOURCE)
    except ApiError as exc:
        if exc.code == "temporal_unavailable":
            return _unavailable(locale, order.order_id, exc.code)
        if exc.code not in _RACED:
            raise
        fresh = await db.run(repo.get_order, order.order_id)
        answered = exc.code == "event_id_reused" or (
            fresh is not None and survey_state(fresh, datetime.now(UTC)) == SurveyState.ANSWERED)
        return _closed_page(locale, SurveyState.ANSWERED if answered else SurveyState.CLOSED,
                            order.order_id, posting=True)
    except RPCError as exc:
        return _unavailable(locale, order.order_id, exc.status.name)
    if result.duplicate:
        return _closed_page(locale, SurveyState.ANSWERED, order.order_id, posting=True)
    log.info("survey answered through its link", extra={"order_id": order.order_id})
    return _message(locale, 200, "thanks", order.order_id)


def _unavailable(locale: str, order_id: str, status: str) -> HTMLResponse:
    log.error("survey answer not recorded: temporal unavailable",
              extra={"order_id": order_id, "status": status})
    page = _message(locale, 503, "unavailable", order_id)
    page.headers["Retry-After"] = "30"
    return page


async def _read_form(request: Request) -> dict[str, list[Any]] | int:
    """The posted fields, or the status that refuses the request (customer_pages.read_form)."""
    form = await customer_pages.read_form(request, MAX_FORM_BYTES)
    return form if isinstance(form, int) else {name: form.getlist(name) for name in form}
