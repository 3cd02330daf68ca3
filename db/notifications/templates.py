"""Message templates: `templates/notifications/<locale>/<event_type>.txt`.

The first line of a file is the subject (the inbox title), the rest is the body. Variables are
`{name}` fields filled from the notice's data; a variable the notice does not carry renders as
`-` (and is logged), so a missing value never stops a message. Datetimes, and ISO 8601 strings,
render as `YYYY-MM-DD HH:MM UTC`.
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


def template_path(locale: str, event_type: str, root: Path = TEMPLATE_DIR) -> Path:
    return root / locale / f"{event_type}.txt"


@lru_cache(maxsize=64)
def _load(path: Path) -> tuple[str, str]:
    text = path.read_text(encoding="utf-8")
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
    path = template_path(normalize_locale(locale), event_type, root)
    subject_t, body_t = _load(path)
    variables = _Vars(values)
    subject = subject_t.format_map(variables)
    body = body_t.format_map(variables)
    if variables.missing:
        log.warning("template variables missing", extra={
            "template": f"{path.parent.name}/{path.name}",
            "missing": sorted(set(variables.missing))})
    return subject, body
