"""Message catalogues and language choice shared by every HTML surface (survey page, console).

A catalogue is `<dir>/<locale>.json`: message key -> text with `{name}` fields. Templates hold
no words of their own; they call `t(key, **fields)`. zh-CN is the default language.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"

Translate = Callable[..., str]


def match_locale(value: str | None) -> str | None:
    """A supported locale for `value` (`en-GB` -> `en`, `zh` -> `zh-CN`), else None."""
    if not value:
        return None
    wanted = value.strip().replace("_", "-").lower()
    for known in LOCALES:
        if wanted == known.lower():
            return known
    language = wanted.split("-")[0]
    return next((known for known in LOCALES if known.split("-")[0].lower() == language), None)


def from_accept_language(header: str | None) -> str | None:
    """The supported locale the browser prefers most (`q` weights honoured), else None."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        locale = match_locale(tag) if tag != "*" else None
        if locale and weight > 0:
            ranked.append((-weight, position, locale))
    return min(ranked)[2] if ranked else None


@lru_cache(maxsize=16)
def load_catalogue(root: Path, locale: str) -> dict[str, str]:
    data = json.loads((root / f"{locale}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{root / locale}.json must map message keys to strings")
    return data


def make_translator(messages: dict[str, str]) -> Translate:
    """`t(key, **fields)`. A missing key raises KeyError, so a page never shows a blank where
    words belong (each surface's catalogue parity test catches it first)."""

    def t(key: str, **fields: Any) -> str:
        return messages[key].format(**fields) if fields else messages[key]

    return t
