"""The opt-out page's words: one catalogue per language with the same keys and fields, and every
key the page, the frame it extends and its handler use is in them (a missing one would raise,
not show a blank)."""

from __future__ import annotations

from api.i18n import LOCALES
from api.notices.opt_out import MESSAGE_DIR, PAGE_DIR, catalogue
from api.notices.schemas import Choice
from tests.support.customer_templates import (
    assert_catalogues_agree,
    words_outside_the_catalogue,
)


def test_both_languages_have_the_same_words() -> None:
    assert_catalogues_agree(catalogue, MESSAGE_DIR, LOCALES)


def test_every_word_the_page_uses_is_in_the_catalogue() -> None:
    known = set(catalogue("en"))
    assert words_outside_the_catalogue(PAGE_DIR, known) == []
    used = {f"saved_{c.value}" for c in Choice} | {"title", "language_name"}
    used |= {f"{state}_{part}" for state in ("not_found", "bad_request")
             for part in ("title", "body")}
    assert used <= known, used - known
