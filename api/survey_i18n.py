"""Words of the survey page: one message catalogue per language, and which language to use.

Catalogues are `templates/survey/messages/<locale>.json` (key -> text with `{name}` fields); the
templates hold no words of their own. zh-CN is the default; a link's `?lang=` wins over the
customer's language on the order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from config import REPO_ROOT

SURVEY_TEMPLATE_DIR = REPO_ROOT / "templates" / "survey"
MESSAGE_DIR = SURVEY_TEMPLATE_DIR / "messages"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

Translate = Callable[..., str]


def _match(value: str | None) -> str | None:
    """A supported locale for `value` (`en-GB` -> `en`, `zh` -> `zh-CN`), else None."""
    if not value:
        return None
    wanted = value.strip().replace("_", "-").lower()
    for known in LOCALES:
        if wanted == known.lower():
            return known
    language = wanted.split("-")[0]
    return next((known for known in LOCALES if known.split("-")[0].lower() == language), None)


def choose_locale(query: str | None, customer: str | None) -> str:
    return _match(query) or _match(customer) or DEFAULT_LOCALE


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str, root: Path = MESSAGE_DIR) -> dict[str, str]:
    data = json.loads((root / f"{locale}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{root / locale}.json must map message keys to strings")
    return data


def display_time(value: Any) -> str:
    """`2026-12-03 18:00 UTC`, as the notification templates write times."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def translator(locale: str) -> Translate:
    """`t(key, **fields)`: the message in `locale`. A missing key raises KeyError, so a page
    never shows a blank where words belong (the catalogue parity test catches it first)."""
    messages = catalogue(locale)

    def t(key: str, **fields: Any) -> str:
        return messages[key].format(**fields) if fields else messages[key]

    return t
