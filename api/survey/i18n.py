"""Words of the survey page: one message catalogue per language, and which language to use.

Catalogues are `templates/survey/messages/<locale>.json` (key -> text with `{name}` fields); the
templates hold no words of their own. zh-CN is the default; a link's `?lang=` wins over the
customer's language on the order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from api.i18n import DEFAULT_LOCALE, load_catalogue, make_translator, match_locale

# Re-exported (the `as` says so to mypy): the survey's modules import them from here.
from api.i18n import LOCALES as LOCALES
from api.i18n import Translate as Translate
from config import REPO_ROOT

SURVEY_TEMPLATE_DIR = REPO_ROOT / "templates" / "survey"
MESSAGE_DIR = SURVEY_TEMPLATE_DIR / "messages"


def choose_locale(query: str | None, customer: str | None) -> str:
    return match_locale(query) or match_locale(customer) or DEFAULT_LOCALE


def catalogue(locale: str, root: Path = MESSAGE_DIR) -> dict[str, str]:
    return load_catalogue(root, locale)


def display_time(value: object) -> str:
    """`2026-12-03 18:00 UTC`, as the notification templates write times."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def translator(locale: str) -> Translate:
    """`t(key, **fields)`: the message in `locale` (see api.i18n.make_translator)."""
    return make_translator(catalogue(locale))
