"""The order's story in words: every kind and type has a sentence in both catalogues, and an
item reads as a sentence with its time to the second in the viewer's zone, its text whole."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from api.deps import Role
from api.i18n import LOCALES
from api.survey.router import SOURCE as SURVEY_SOURCE
from console.audit import story
from console.i18n import Viewer, catalogue
from console.orders.routes import SOURCE as CONSOLE_SOURCE
from db.orders.story import (
    ALL_KINDS,
    ESCALATION_SOURCE,
    OUTBOX_SOURCE,
    StoryItem,
    StoryKind,
)
from workflows.ids import SYSTEM_SOURCE


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _needed() -> list[str]:
    keys = [f"story.kind.{k}" for k in StoryKind]
    for kind, types in story.TYPES.items():
        if kind == StoryKind.NOTIFICATION:
            keys += [f"story.notice.{t}" for t in types]
        else:
            keys += [f"story.{kind}.{t}" for t in types] + [f"story.{kind}.other"]
    # the entry's type beside its sentence (orders and escalations have their labels already)
    keys += [f"event.{t}" for t in story.TYPES[StoryKind.ORDER]]
    keys += [f"esc.step.{t}" for t in story.TYPES[StoryKind.ESCALATION]]
    keys += [f"story.type.{kind}.{t}" for kind in (StoryKind.CLAIM, StoryKind.COMPLAINT)
             for t in story.TYPES[kind]]
    keys += [f"story.notification.{c}" for c in story.CHANNELS] + ["story.notification.other"]
    keys += [f"story.channel.{c}" for c in story.CHANNELS]
    keys += [f"story.outcome.{o}" for o in story.OUTCOMES]
    # where entries come from: the caller's role, the console, the survey link, Waybill itself
    sources = [r.value for r in Role] + [CONSOLE_SOURCE, SURVEY_SOURCE, SYSTEM_SOURCE,
                                         ESCALATION_SOURCE, OUTBOX_SOURCE]
    keys += [f"story.source.{s}" for s in sources]
    return keys


@pytest.mark.parametrize("locale", LOCALES)
def test_every_kind_and_type_has_a_sentence(locale: str) -> None:
    words = catalogue(locale)
    missing = [key for key in _needed() if key not in words]
    assert not missing, f"{locale} lacks {missing}"
    assert story.TYPES[StoryKind.ORDER] and story.TYPES[StoryKind.ESCALATION]


def test_both_catalogues_name_the_same_known_fields() -> None:
    en, zh = catalogue("en"), catalogue("zh-CN")
    for key in (k for k in en if k.startswith("story.")):
        assert _placeholders(en[key]) == _placeholders(zh[key]), key
        if key.startswith(("story.order.", "story.escalation.", "story.claim.",
                           "story.complaint.", "story.notification.")):
            assert _placeholders(en[key]) <= story.FIELDS, key


AT = datetime(2026, 12, 1, 6, 3, 27, tzinfo=UTC)  # 14:03:27 in Shanghai


def _item(kind: StoryKind, type_: str, data: dict, actor: str = "Supervisor Wang") -> StoryItem:
    return StoryItem(kind, type_, "e-1", AT, AT.replace(second=29), actor, "api", data, "ESC-1")


def test_an_acknowledgement_reads_as_a_sentence_in_the_viewers_zone() -> None:
    item = _item(StoryKind.ESCALATION, "acknowledged", {"level": 2, "comment": "看过了"})
    en = story.row(Viewer("en", "Asia/Shanghai"), item)
    assert en.sentence == "Supervisor Wang acknowledged escalation L2 at 14:03:27"
    assert (en.occurred, en.recorded) == ("2026-12-01 14:03:27", "2026-12-01 14:03:29")
    assert en.texts == ("看过了",) and "看过了" in en.data and "\\u" not in en.data
    zh = story.row(Viewer("zh-CN", "Asia/Shanghai"), item)
    assert zh.sentence == "Supervisor Wang 于 14:03:27 确认了 L2 级升级"


def test_a_resolution_says_code_and_the_whole_text() -> None:
    text = "客户已电话确认改约，" * 30  # far beyond the old 160-character cut
    item = _item(StoryKind.ESCALATION, "resolved",
                 {"level": 1, "code": "customer_informed", "text": text})
    row = story.row(Viewer("en", "UTC"), item)
    assert row.sentence == \
        "Supervisor Wang resolved escalation L1 as “Customer informed” at 06:03:27"
    assert row.texts == (text,)


def test_a_notification_names_channel_recipient_outcome_and_attempts() -> None:
    item = _item(StoryKind.NOTIFICATION, "order.shipped",
                 {"channel": "email", "recipient": "ops@example.com", "status": "delivered",
                  "attempts": 1}, actor="waybill")
    row = story.row(Viewer("en", "UTC"), item)
    assert row.sentence == \
        "“Order shipped” e-mailed to ops@example.com at 06:03:27: delivered, attempts: 1"
    assert row.actor == "Waybill" and not row.by_person
    zh = story.row(Viewer("zh-CN", "UTC"), item)
    assert "订单已发货" in zh.sentence and "已送达" in zh.sentence
    assert row.facts == zh.facts == ()


def test_an_inbox_notice_says_who_read_it_and_when() -> None:
    item = _item(StoryKind.NOTIFICATION, "escalation.level_changed",
                 {"channel": "inbox", "recipient": "ops_desk", "status": "delivered",
                  "read_by": "desk-li", "read_at": "2026-12-01T06:05:01+00:00"}, actor="waybill")
    row = story.row(Viewer("en", "Asia/Shanghai"), item)
    assert row.sentence == "“Escalation level changed” put in the Ops desk team's inbox at " \
        "14:03:27: delivered"
    assert row.facts == ("Read by desk-li at 2026-12-01 14:05:01",)
    assert story.row(Viewer("zh-CN", "Asia/Shanghai"), item).facts == (
        "desk-li 于 2026-12-01 14:05:01 已读",)


def test_a_customers_wait_reads_as_paused_then_running_on() -> None:
    """issue 19 §5: the pause names its deadline and the customer's time, in both languages."""
    paused = _item(StoryKind.ORDER, "deadline_paused", {
        "deadline": "delivery_late", "cause": "consignee_absent",
        "until": "2026-12-03T01:00:00+00:00", "due_at": "2026-12-05T01:00:00+00:00"}, "waybill")
    viewer = Viewer("en", "Asia/Shanghai")
    assert story.row(viewer, paused).sentence == \
        "Deadline “Delivery” paused at 14:03:27 for the customer’s wait, until 2026-12-03 09:00:00"
    assert story.row(Viewer("zh-CN", "Asia/Shanghai"), paused).sentence == \
        "送达时限于 14:03:27 因客户原因暂停，至 2026-12-03 09:00:00"
    resumed = _item(StoryKind.ORDER, "deadline_resumed", {
        "deadline": "delivery_late", "due_at": "2026-12-05T01:00:00+00:00"}, "waybill")
    assert story.row(viewer, resumed).sentence == \
        "Deadline “Delivery” ran on at 14:03:27, now due 2026-12-05 09:00:00"


def test_a_type_newer_than_the_catalogue_still_reads() -> None:
    row = story.row(Viewer("en", "UTC"), _item(StoryKind.ORDER, "teleported", {}))
    assert row.sentence == "Supervisor Wang recorded “teleported” at 06:03:27"


def test_the_page_filter_takes_known_kinds_and_else_shows_all() -> None:
    assert story.chosen_kinds(["order,claim", "escalation"]) == {
        StoryKind.ORDER, StoryKind.CLAIM, StoryKind.ESCALATION}
    assert story.chosen_kinds([]) == ALL_KINDS
    assert story.chosen_kinds(["bogus"]) == ALL_KINDS


def test_codes_in_an_entry_read_as_facts_not_as_what_someone_wrote() -> None:
    """Issue 18 §6: a reason, a cause, a department in an entry's data are codes: the story
    words them as facts. Waybill's own English summary of a case it opened is no one's text;
    the customer's suggestion it quotes is, and the scores read in the survey's order."""
    zh = Viewer("zh-CN", "Asia/Shanghai")
    exception = story.row(zh, _item(StoryKind.ORDER, "delivery_exception",
                                    {"reason": "consignee_absent", "text": "收货人不在"}))
    assert (exception.texts, exception.facts) == (("收货人不在",), ("原因：收货人不在",))
    climbed = story.row(zh, _item(StoryKind.ESCALATION, "climbed",
                                  {"level": 2, "reason": "not_acknowledged"}, actor="waybill"))
    assert (climbed.texts, climbed.facts) == ((), ("原因：未在时限内确认",))
    opened = story.row(zh, _item(StoryKind.COMPLAINT, "opened", {
        "category": "low_survey_score", "origin": "survey",
        "description": "low follow-up score: completeness=1, timeliness=2; suggestions: 请先打电话",
        "survey": {"scores": {"courtesy": 5, "completeness": 1, "timeliness": 2},
                   "goods_ok": False, "suggestions": "请先打电话"}}, actor="waybill"))
    assert opened.actor == "系统" and opened.texts == ("请先打电话",)
    assert opened.facts == ("类别：回访低分", "回访评分：时效 2/5、完整性 1/5、服务态度 5/5",
                            "到货时货物有问题")
    # a person's own description stays whole
    by_hand = story.row(zh, _item(StoryKind.CLAIM, "opened", {"cause": "damaged",
                                                              "description": "外箱压坏"}))
    assert by_hand.texts == ("外箱压坏",) and by_hand.facts == ("原因：货物破损",)
