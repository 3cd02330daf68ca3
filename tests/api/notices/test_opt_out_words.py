"""The opt-out page's words: one catalogue per language with the same keys, and every key the
page and its handler use is in them (a missing one would raise, not show a blank)."""

from __future__ import annotations

import json
import re

from api.i18n import LOCALES
from api.notices.opt_out import MESSAGE_DIR, PAGE_DIR
from api.notices.schemas import Choice


def test_both_languages_have_the_same_words() -> None:
    keys = [set(json.loads((MESSAGE_DIR / f"{locale}.json").read_text("utf-8")))
            for locale in LOCALES]
    assert all(k == keys[0] for k in keys)


def test_every_word_the_page_uses_is_in_the_catalogue() -> None:
    known = set(json.loads((MESSAGE_DIR / "en.json").read_text("utf-8")))
    used = set(re.findall(r"""t\(["']([a-z_]+)["']""", (PAGE_DIR / "page.html").read_text()))
    used |= {f"saved_{c.value}" for c in Choice} | {"title", "language_name"}
    used |= {f"{state}_{part}" for state in ("not_found", "bad_request")
             for part in ("title", "body")}
    assert used <= known, used - known
