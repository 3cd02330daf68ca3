"""Words of the tracking page: its own catalogue per language (templates/tracking/messages/),
chosen like the survey page's (`?lang=` wins, then the customer's language on the order, then
the browser's, then zh-CN)."""

from __future__ import annotations

from api.i18n import (
    DEFAULT_LOCALE,
    from_accept_language,
    load_catalogue,
    make_translator,
    match_locale,
)
from api.i18n import LOCALES as LOCALES
from api.i18n import Translate as Translate
from config import REPO_ROOT

TRACKING_TEMPLATE_DIR = REPO_ROOT / "templates" / "tracking"
MESSAGE_DIR = TRACKING_TEMPLATE_DIR / "messages"


def choose_locale(query: str | None, customer: str | None = None,
                  accept_language: str | None = None) -> str:
    return (match_locale(query) or match_locale(customer)
            or from_accept_language(accept_language) or DEFAULT_LOCALE)


def catalogue(locale: str) -> dict[str, str]:
    return load_catalogue(MESSAGE_DIR, locale)


def translator(locale: str) -> Translate:
    return make_translator(catalogue(locale))
