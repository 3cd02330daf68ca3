"""The tracking page's pure rules (issue 19 §2): masking, the phone the lookup checks, the
business zone, the exception words, the well-formed query and the lookup limit. Fast: an
`orders` row built in memory, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.tracking.lookup import Attempts, matching_order, parse_query
from api.tracking.view import (
    CONDITIONS,
    EXCEPTION_REASONS,
    POD_KINDS,
    contact_phone,
    mask_name,
    mask_numbers,
    tracking_view,
)
from api.tracking.words import LOCALES, MESSAGE_DIR, TRACKING_TEMPLATE_DIR, catalogue
from db.orders.models import Order
from db.personal.fields import REDACTED
from tests.support.customer_templates import (
    assert_catalogues_agree,
    words_outside_the_catalogue,
)

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


def row(**changes: Any) -> Order:
    values: dict[str, Any] = dict(
        order_id="SO-1", customer={"id": "C", "name": "王小明", "tier": "standard",
                                   "phone": "13912345678", "language": "en"},
        destination={"address": "世纪大道88号", "city": "上海", "contact": "李雷",
                     "phone": "+86 138 0013 8000"},
        lines=[{"sku": "SKU-1", "ordered": 2}], stage="in_transit", received_at=T0,
        confirmed_at=T0, picked_at=T0, shipped_at=T0, in_transit_at=T0, delivered_at=None,
        cancelled_at=None, promised_delivery_by=T0 + timedelta(days=2), carrier="SF",
        tracking_no="SF1", detail={}, sla_policy_snapshot={})
    values.update(changes)
    return Order(**values)


def test_names_are_masked_to_one_character_and_redacted_values_are_absent() -> None:
    assert mask_name("李雷") == "李*" and mask_name("欧阳娜娜") == "欧*"
    assert mask_name(" Li Lei ") == "L*"
    assert mask_name(REDACTED) is None and mask_name("") is None and mask_name(None) is None


def test_phone_numbers_in_carrier_texts_show_their_last_four_digits_only() -> None:
    assert mask_numbers("派送员张师傅 138 0013 8000 正在派送") == "派送员张师傅 ****8000 正在派送"
    assert mask_numbers("call +86-21-5555-0100") == "call ****0100"
    assert mask_numbers("上海转运中心 hub 021") == "上海转运中心 hub 021"  # short codes stay


def test_the_lookup_checks_the_consignees_phone_else_the_customers() -> None:
    assert contact_phone(row()) == "8613800138000"
    no_phone = row(destination={"address": "x", "contact": "李雷"})
    assert contact_phone(no_phone) == "13912345678"
    redacted = row(destination={"address": REDACTED, "phone": REDACTED},
                   customer={"id": "C", "name": REDACTED, "tier": "standard",
                             "phone": REDACTED})
    assert contact_phone(redacted) == ""
    assert matching_order([redacted], "0000") is None  # no digits: never a match
    assert matching_order([no_phone, row(order_id="SO-2")], "8000").order_id == "SO-2"
    assert matching_order([row()], "8001") is None


def test_times_are_in_the_policys_calendar_zone_else_the_business_zone() -> None:
    tokyo = row(sla_policy_snapshot={"calendar": {"timezone": "Asia/Tokyo", "hours": {}}})
    assert tracking_view(tokyo, [], T0, "Asia/Shanghai").steps[0].at.text == "2026-12-07 10:00"
    plain = tracking_view(row(), [], T0, "Asia/Shanghai")
    assert plain.zone == "Asia/Shanghai" and plain.steps[0].at.text == "2026-12-07 09:00"
    assert plain.steps[0].at.iso == "2026-12-07T01:00:00Z"
    broken = row(sla_policy_snapshot={"calendar": {"timezone": "Mars/Olympus"}})
    assert tracking_view(broken, [], T0, "Asia/Shanghai").zone == "Asia/Shanghai"


def test_stages_after_delivery_read_delivered_and_the_exception_shows_while_moving() -> None:
    exception = {"event_id": "e", "reason": "weather", "text": "暴雨，司机张三说明天送",
                 "at": T0.isoformat(), "actor": "carrier"}
    moving = tracking_view(row(detail={"exceptions": [exception]}), [], T0, "UTC")
    assert moving.exception is not None and moving.exception.reason == "weather"
    assert [s.stage for s in moving.steps if s.current] == ["in_transit"]
    closed = tracking_view(row(stage="closed", delivered_at=T0,
                               detail={"exceptions": [exception],
                                       "delivery": {"condition": "intact", "signer": "韩梅梅",
                                                    "pod": {"kind": "photo", "ref": "r"}}}),
                           [], T0, "UTC")
    assert [s.stage for s in closed.steps if s.current] == ["delivered"]
    assert closed.exception is None and closed.pod_kind == "photo"
    unknown = {**exception, "reason": "customer_requested_delay"}  # a reason added later
    assert tracking_view(row(detail={"exceptions": [unknown]}), [], T0,
                         "UTC").exception.reason == "other"


def test_every_exception_reason_pod_kind_and_condition_has_words_in_both_languages() -> None:
    assert set(EXCEPTION_REASONS) == {"address_incorrect", "consignee_absent", "refused",
                                      "damaged_in_transit", "lost", "weather", "other",
                                      "customer_request"}
    for locale in LOCALES:
        words = catalogue(locale)
        for reason in EXCEPTION_REASONS:
            for part in ("title", "body", "next"):
                assert words[f"exception_{reason}_{part}"].strip(), (locale, reason, part)
        assert all(words[f"pod_{kind}"] for kind in POD_KINDS)
        assert all(words[f"condition_{c}"] for c in CONDITIONS)
        assert all(words[f"stage_{s}"] for s in ("received", "confirmed", "picked", "shipped",
                                                 "in_transit", "delivered"))


def test_queries_are_bounded_and_well_formed() -> None:
    assert parse_query(" sf 123-456 ", "8000").errors == ()
    assert parse_query(" sf 123-456 ", "8000").spellings == ["SF123-456", "sf123-456"]
    assert parse_query("SF1", "8000").errors == ("tracking_no",)
    assert parse_query("SF12345", "800").errors == ("phone_tail",)
    assert parse_query("SF12345", "８０００").errors == ("phone_tail",)  # ASCII digits only
    huge = parse_query("A" * 100_000, "1" * 100_000)
    assert len(huge.tracking_no) <= 40 and huge.errors == ("tracking_no", "phone_tail")
    assert parse_query(None, None).errors == ("tracking_no", "phone_tail")


def test_the_limit_counts_every_key_and_frees_a_slot_a_minute_later() -> None:
    now = [0.0]
    attempts = Attempts(2, clock=lambda: now[0])
    assert attempts.take("address:a", "tracking_no:X") is None
    now[0] = 10.0
    assert attempts.take("address:b", "tracking_no:X") is None
    now[0] = 20.0
    assert attempts.take("address:c", "tracking_no:X") == 40  # the number's minute is used
    assert attempts.take("address:c", "tracking_no:Y") is None  # refused attempts not counted
    now[0] = 60.5
    assert attempts.take("address:d", "tracking_no:X") is None


def test_catalogues_have_the_same_keys_and_fields() -> None:
    assert_catalogues_agree(catalogue, MESSAGE_DIR, LOCALES)


def test_templates_use_only_catalogue_words() -> None:
    assert words_outside_the_catalogue(TRACKING_TEMPLATE_DIR, catalogue("en")) == []


def test_every_scan_word_a_feed_gives_is_said_in_both_languages() -> None:
    from api.feeds import generic, kuaidi100
    from shared.carriers import SCAN_STATUSES

    given = {m.status for table in (kuaidi100.STATES, kuaidi100.SUB_STATES)
             for m in table.values() if m.status} | set(generic.SCAN_WORDS.values())
    assert given <= set(SCAN_STATUSES), given - set(SCAN_STATUSES)
    for locale in LOCALES:
        words = catalogue(locale)
        assert all(words[f"scan_status.{s}"].strip() for s in SCAN_STATUSES), locale
        assert words["scan_location_unknown"].strip()
