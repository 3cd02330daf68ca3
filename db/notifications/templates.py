"""Message templates: `templates/notifications/<event_type>.txt`, one file holding every
language, each after a line naming it (`[zh-CN]`, `[en]`), or one file per language,
`templates/notifications/<locale>/<event_type>.txt`. A new notice uses the first kind, so its
words in both languages are written (and reviewed) side by side.

The first line of a language's text is the subject (the inbox title), the rest is the body.
Variables are `{name}` fields filled from the notice's data; a variable the notice does not
carry renders as `-` (and is logged), so a missing value never stops a message. Datetimes,
and ISO 8601 strings, render as `YYYY-MM-DD HH:MM UTC`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from config import REPO_ROOT

log = logging.getLogger("waybill.notifications")

TEMPLATE_DIR = REPO_ROOT / "templates" / "notifications"
LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
MISSING = "-"

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def normalize_locale(locale: str | None) -> str:
    """A supported locale for `locale`: exact, then by language (`en-GB` -> `en`), else zh-CN."""
    if not locale:
        return DEFAULT_LOCALE
    for known in LOCALES:
        if locale.lower() == known.lower():
            return known
    language = locale.replace("_", "-").split("-")[0].lower()
    for known in LOCALES:
        if known.split("-")[0].lower() == language:
            return known
    return DEFAULT_LOCALE


_SECTION = re.compile(r"^\[([A-Za-z-]+)\]$", re.MULTILINE)


def template_path(locale: str, event_type: str, root: Path = TEMPLATE_DIR) -> Path:
    """The file holding `event_type`'s words in `locale`: the one file of every language if
    there is one, else the language's own file."""
    both = root / f"{event_type}.txt"
    return both if both.is_file() else root / locale / f"{event_type}.txt"


def sections(text: str) -> dict[str, str]:
    """A file of every language split by its `[locale]` lines: locale -> that language's text."""
    parts = _SECTION.split(text)
    return {parts[i]: parts[i + 1].strip("\n") for i in range(1, len(parts) - 1, 2)}


@lru_cache(maxsize=128)
def load(locale: str, event_type: str, root: Path = TEMPLATE_DIR) -> tuple[str, str]:
    """(subject, body) templates of `event_type` in `locale`.

    Raises:
        FileNotFoundError: no template for this event type in this locale.
    """
    path = template_path(locale, event_type, root)
    text = path.read_text(encoding="utf-8")
    if path.parent == root:
        found = sections(text)
        if locale not in found:
            raise FileNotFoundError(f"{path} has no [{locale}] section")
        text = found[locale]
    subject, _, body = text.partition("\n")
    return subject.strip(), body.strip("\n") + "\n"


def _display(value: object) -> str:
    if isinstance(value, str) and _ISO.match(value):
        text = value
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if value is None:
        return MISSING
    return str(value)


display = _display  # how a value reads in a message (SMS template variables read the same)


class _Vars(dict[str, str]):
    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__({k: _display(v) for k, v in values.items()})
        self.missing: list[str] = []

    def __missing__(self, key: str) -> str:
        self.missing.append(key)
        return MISSING


def render(locale: str, event_type: str, values: dict[str, Any],
           root: Path = TEMPLATE_DIR) -> tuple[str, str]:
    """Render (subject, body) of `event_type` in `locale` (normalized; zh-CN by default).

    Raises:
        FileNotFoundError: no template for this event type in this locale.
    """
    locale = normalize_locale(locale)
    subject_t, body_t = load(locale, event_type, root)
    variables = _Vars(values)
    subject = subject_t.format_map(variables)
    body = body_t.format_map(variables)
    if variables.missing:
        log.warning("template variables missing", extra={
            "template": f"{locale}/{event_type}.txt",
            "missing": sorted(set(variables.missing))})
    return subject, body
