"""The redaction of personal data (issue 17 §6) as the story tells it, in both languages: one
sentence for the retention run (with its period) and one for an erasure request, and a
redacted text shown in the viewer's words. Fast: no database."""

from __future__ import annotations

from datetime import UTC, datetime

from console.audit import story
from console.i18n import Viewer
from db.orders.story import StoryItem, StoryKind
from db.personal.fields import REDACTED

AT = datetime(2026, 12, 5, 7, 1, 37, tzinfo=UTC)


def _item(type_: str, data: dict[str, object], actor: str = "system",
          source: str = "retention") -> StoryItem:
    return StoryItem(StoryKind.ORDER, type_, "e1", AT, AT, actor, source, data)


def test_the_redaction_is_a_sentence_in_both_languages() -> None:
    retention = _item("personal_data_redacted", {"retention_days": 365, "values": 12,
                                                 "inline_kept": 0})
    en = story.row(Viewer("en", "Asia/Shanghai"), retention)
    zh = story.row(Viewer("zh-CN", "Asia/Shanghai"), retention)
    assert en.sentence == "Personal data was redacted after 365 days at 15:01:37"
    assert zh.sentence == "个人信息已在保留期满 365 天后于 15:01:37 脱敏"
    erased = _item("personal_data_redacted", {"retention_days": None, "values": 3},
                   actor="privacy-officer", source="api")
    assert story.row(Viewer("en", "UTC"), erased).sentence == \
        "privacy-officer had the personal data redacted on request at 07:01:37"


def test_a_redacted_text_reads_as_redacted_in_the_viewers_language() -> None:
    note = _item("note", {"text": REDACTED}, actor="desk", source="console")
    assert story.row(Viewer("en", "UTC"), note).texts == ("(redacted)",)
    assert story.row(Viewer("zh-CN", "UTC"), note).texts == ("（已脱敏）",)
