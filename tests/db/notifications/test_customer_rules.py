"""The rules of customer SMS, pure: quiet hours in the customer's zone, the cap's local day, and
segment counting (db/notifications/customer_rules.py); and every SMS template's length."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from db.notifications.customer_channels import SMS_TEMPLATE_DIR, sms_text
from db.notifications.customer_rules import (
    NoticeRules,
    local_day,
    quiet_until,
    sms_as_received,
    sms_segments,
)
from db.notifications.templates import LOCALES, sections
from shared.survey_links import OPT_OUT_PURPOSE, TRACKING_PURPOSE, SurveyLinks

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("now", "due"), [
    ("2026-12-05T12:59:00", None),  # 20:59 in Shanghai: not yet quiet
    ("2026-12-05T13:00:00", "2026-12-06T00:00:00"),  # 21:00: until 08:00 next morning
    ("2026-12-05T15:30:00", "2026-12-06T00:00:00"),  # 23:30
    ("2026-12-05T17:00:00", "2026-12-06T00:00:00"),  # 01:00 after midnight: the same morning
    ("2026-12-05T23:59:00", "2026-12-06T00:00:00"),  # 07:59
    ("2026-12-06T00:00:00", None),  # 08:00: the quiet hours are over
])
def test_quiet_hours_end_in_the_customers_morning(now: str, due: str | None) -> None:
    assert quiet_until(utc(now), SHANGHAI, "21:00-08:00") == (utc(due) if due else None)


def test_quiet_hours_follow_the_customers_zone_and_its_clock_changes() -> None:
    # 02:00 UTC is 21:00 in New York on 2026-11-01 (EST since that morning): quiet until
    # 08:00 EST = 13:00 UTC.
    assert quiet_until(utc("2026-11-02T02:00:00"), NEW_YORK, "21:00-08:00") == \
        utc("2026-11-02T13:00:00")
    # The same instant is 10:00 in Shanghai: not quiet there.
    assert quiet_until(utc("2026-11-02T02:00:00"), SHANGHAI, "21:00-08:00") is None


def test_a_window_within_one_day_and_no_window() -> None:
    assert quiet_until(utc("2026-12-05T05:00:00"), SHANGHAI, "12:00-14:00") == \
        utc("2026-12-05T06:00:00")
    assert quiet_until(utc("2026-12-05T15:00:00"), SHANGHAI, "") is None


def test_the_cap_counts_the_customers_local_day() -> None:
    start, end = local_day(utc("2026-12-05T17:00:00"), SHANGHAI)  # 01:00 on the 6th there
    assert (start, end) == (utc("2026-12-05T16:00:00"), utc("2026-12-06T16:00:00"))


def test_an_unknown_zone_falls_back_to_the_default() -> None:
    rules = NoticeRules(default_timezone="Asia/Shanghai")
    assert rules.zone("Mars/Olympus") == SHANGHAI and rules.zone(None) == SHANGHAI
    assert rules.zone("Europe/Berlin") == ZoneInfo("Europe/Berlin")


def test_segments_gsm_and_ucs2() -> None:
    assert sms_segments("a" * 160) == 1 and sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2 and sms_segments("a" * 307) == 3
    assert sms_segments("{" * 80) == 1 and sms_segments("{" * 81) == 2  # two septets each
    assert sms_segments("订" * 70) == 1 and sms_segments("订" * 71) == 2
    assert sms_segments("订" * 134) == 2 and sms_segments("订" * 135) == 3
    assert sms_segments("a" * 69 + "😀") == 2  # an emoji is two UTF-16 units
    # The provider's 【sign】 makes even an English text UCS-2.
    assert sms_segments(sms_as_received("Waybill", "a" * 61)) == 1
    assert sms_segments(sms_as_received("Waybill", "a" * 62)) == 2


SMS_EVENTS = sorted(p.stem for p in SMS_TEMPLATE_DIR.glob("*.txt"))


def test_every_notice_the_brief_names_has_an_sms_in_both_languages() -> None:
    assert set(SMS_EVENTS) == {
        "order.confirmed", "order.shipped", "order.in_transit", "order.out_for_delivery",
        "order.delivered", "order.delivery_exception", "order.delay_risk", "order.survey_due"}
    for name in SMS_EVENTS:
        assert sorted(sections((SMS_TEMPLATE_DIR / f"{name}.txt").read_text("utf-8"))) == \
            sorted(LOCALES), name


@pytest.mark.parametrize("event_type", SMS_EVENTS)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_sms_links_tracking_and_opt_out_in_two_segments(event_type: str,
                                                              locale: str) -> None:
    """README "Customer notices": with a short public address (https://wb.cn) and order ids of
    up to 8 characters every SMS is at most two segments."""
    order_id, base = "SO-12345", "https://wb.cn"
    tracking = SurveyLinks(b"k" * 32, base, TRACKING_PURPOSE, "/t").url(order_id)
    opt_out = SurveyLinks(b"k" * 32, base, OPT_OUT_PURPOSE, "/u").url(order_id)
    text = sms_text(locale, event_type, {"order_id": order_id, "tracking_url": tracking,
                                         "opt_out_url": opt_out})
    assert tracking in text and opt_out in text
    assert "\n" not in text
    assert sms_segments(sms_as_received("Waybill", text)) <= 2, text


def test_sms_templates_are_one_line_each() -> None:
    for path in Path(SMS_TEMPLATE_DIR).glob("*.txt"):
        for locale, text in sections(path.read_text("utf-8")).items():
            assert len(text.strip().splitlines()) == 1, (path.name, locale)
