"""The customer pages' words (survey, tracking, opt-out, and the frame they share): their
catalogues agree across languages, and their templates hold no words of their own."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from api.customer_pages import SHARED_TEMPLATE_DIR


def words_outside_the_catalogue(template_dir: Path, keys: Iterable[str]) -> list[str]:
    """What is wrong with the folder's templates and the shared ones: catalogue keys used that
    `keys` lacks, and templates with bare words."""
    known, wrong = set(keys), []
    for path in [*template_dir.glob("*.html"), *SHARED_TEMPLATE_DIR.glob("*.html")]:
        source = path.read_text(encoding="utf-8")
        used = set(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", source))
        if used - known:
            wrong.append(f"{path.name}: unknown keys {sorted(used - known)}")
        # Outside tags and template expressions, a template holds no words of its own.
        bare = re.sub(r"{[{%#].*?[}%#]}", "", source, flags=re.S)
        bare = re.sub(r"<[^>]*>", "", bare)
        if re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", bare):
            wrong.append(f"{path.name}: words of its own")
    return wrong


def assert_catalogues_agree(catalogue: Callable[[str], Mapping[str, str]], message_dir: Path,
                            locales: Iterable[str]) -> None:
    """Both languages have the same keys with the same fields, one file per language, and no
    empty text."""
    zh, en = catalogue("zh-CN"), catalogue("en")
    assert set(zh) == set(en), f"zh-CN only: {set(zh) - set(en)}; en only: {set(en) - set(zh)}"
    for key in zh:
        fields = [{f for _, f, _, _ in string.Formatter().parse(c[key]) if f} for c in (zh, en)]
        assert fields[0] == fields[1], key
    assert {p.stem for p in message_dir.glob("*.json")} == set(locales)
    for path in message_dir.glob("*.json"):
        assert all(isinstance(v, str) and v.strip() for v in json.loads(path.read_text()).values())
