"""The customer pages' templates (survey, tracking, opt-out, and the frame they share) hold no
words of their own: every text comes from the page's catalogue."""

from __future__ import annotations

import re
from collections.abc import Iterable
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
