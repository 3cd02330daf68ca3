"""Kuaidi100's push read as its documentation says: signature, states, scans (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.feeds import kuaidi100
from api.feeds.kuaidi100 import BadPush, classify, parse, scans, signed
from tests.support.kuaidi100 import SALT, push_param, scan
from workflows.order.types import EventType

SCAN, DELIVERED, EXCEPTION = (EventType.TRACKING_SCAN, EventType.DELIVERED,
                              EventType.DELIVERY_EXCEPTION)


def test_signature_is_upper_md5_of_param_and_salt() -> None:
    param = push_param("shunfeng", "SF1", "0", [])
    sign = kuaidi100.signature(param, SALT)
    assert sign == sign.upper() and len(sign) == 32
    assert signed(param, sign, SALT) and signed(param, sign.lower(), SALT)
    assert not signed(param, sign, "another-salt")
    assert not signed(param + " ", sign, SALT)


@pytest.mark.parametrize(("code", "type_", "word"), [
    ("0", SCAN, "in_transit"), ("1", SCAN, "picked_up"), ("5", SCAN, "out_for_delivery"),
    ("7", SCAN, "transferred"), ("8", SCAN, "customs"), ("12", SCAN, "customs_cleared"),
    ("3", DELIVERED, None), ("301", DELIVERED, None), ("304", DELIVERED, None),
    ("101", SCAN, "order_placed"), ("1001", SCAN, "arrived_destination_city"),
    ("501", SCAN, "available_for_pickup"), ("502", SCAN, "out_for_delivery"),
])
def test_moving_states_are_scans_and_signed_is_delivered(code: str, type_: EventType,
                                                         word: str | None) -> None:
    meaning = classify(code)
    assert meaning is not None and meaning.type == type_ and meaning.status == word


@pytest.mark.parametrize(("code", "reason"), [
    ("2", "other"), ("4", "refused"), ("6", "other"), ("14", "refused"), ("13", "other"),
    ("203", "refused"), ("205", "consignee_absent"), ("206", "consignee_absent"),
    ("207", "address_incorrect"), ("209", "damaged_in_transit"), ("299", "other"),
])
def test_trouble_states_are_exceptions_with_their_reason(code: str, reason: str) -> None:
    meaning = classify(code)
    assert meaning is not None and meaning.type == EXCEPTION and meaning.reason == reason


def test_unknown_codes_mean_nothing() -> None:
    assert classify("99") is None and classify("abc") is None and classify("") is None


def test_scans_come_oldest_first_each_with_its_state_and_china_time() -> None:
    push = parse(push_param("shunfeng", "SF1", "3", [
        scan("2026-12-03 10:00:00", "已签收，签收人：本人", status="签收", area="上海市"),
        scan("2026-12-03 08:00:00", "派件中，快递员：张三 13800000000", status="派件"),
        scan("2026-12-02 20:00:00", "到达【上海转运中心】", area="上海市"),
        scan("2026-12-01 18:00:00", "已揽收", code="103"),
    ]))
    events, unreadable = scans(push)
    assert unreadable == 0
    assert [(e.type, e.status, e.carrier_status) for e in events] == [
        (SCAN, "picked_up", "103"), (SCAN, "in_transit", "0"), (SCAN, "out_for_delivery", "5"),
        (DELIVERED, None, "3")]
    assert events[0].occurred_at == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert events[1].location == "上海市"
    # A scan's words (couriers' phones, signers' names) are kept only on exceptions.
    assert all(e.text is None for e in events)
    body = events[-1].body()
    assert body["type"] == "delivered" and body["data"]["signer"] == "recipient"
    assert body["data"]["pod"] == {"kind": "scan", "ref": "kuaidi100:shunfeng:SF1"}
    data = events[1].body()["data"]
    assert (data["location"], data["status"]) == ("上海市", "in_transit")


def test_the_newest_scan_without_a_word_takes_the_push_state() -> None:
    push = parse(push_param("zhongtong", "ZT9", "206", [
        scan("2026-12-03 10:00:00", "收件人电话无法接通"),
        scan("2026-12-02 10:00:00", "运输中")]))
    events, _ = scans(push)
    assert [e.type for e in events] == [SCAN, EXCEPTION]
    body = events[-1].body()
    assert body["data"]["reason"] == "consignee_absent"
    assert body["data"]["text"] == "收件人电话无法接通"


def test_the_same_scan_in_two_pushes_is_one_event_id() -> None:
    first = scans(parse(push_param("shunfeng", "SF1", "0", [
        scan("2026-12-01 18:00:00", "已揽收", status="揽收")])))[0]
    second = scans(parse(push_param("shunfeng", "SF1", "0", [
        scan("2026-12-02 09:00:00", "运输中", status="在途"),
        scan("2026-12-01 18:00:00", "已揽收", status="揽收")])))[0]
    assert first[0].event_id == second[0].event_id
    assert second[1].event_id != second[0].event_id
    other_number = scans(parse(push_param("shunfeng", "SF2", "0", [
        scan("2026-12-01 18:00:00", "已揽收", status="揽收")])))[0]
    assert other_number[0].event_id != first[0].event_id


def test_a_scan_without_its_own_state_keeps_its_id_when_it_is_no_longer_the_newest() -> None:
    a = scan("2026-12-03 08:00:00", "派件中")
    first, _ = scans(parse(push_param("shunfeng", "SF1", "5", [a])))
    second, _ = scans(parse(push_param("shunfeng", "SF1", "3", [
        scan("2026-12-03 10:00:00", "已签收"), a])))
    assert first[0].status == "out_for_delivery" and second[0].status == "in_transit"
    assert first[0].event_id == second[0].event_id
    assert second[1].type == DELIVERED and second[1].event_id != first[0].event_id


def test_scans_without_a_time_are_counted_not_posted() -> None:
    events, unreadable = scans(parse(push_param("shunfeng", "SF1", "0", [
        scan("not a time", "?"), scan("2026-12-01 18:00:00", "已揽收")])))
    assert unreadable == 1 and len(events) == 1


def test_carrier_text_is_cleaned_for_the_event() -> None:
    events, _ = scans(parse(push_param("shunfeng", "SF1", "2", [
        scan("2026-12-01 18:00:00", "  问题件\x00 地址不详  " + "x" * 3000)])))
    text = events[0].body()["data"]["text"]
    assert "\x00" not in text and text.startswith("问题件 地址不详") and len(text) <= 2000


@pytest.mark.parametrize("param", [
    "not json", "[]", "{}", '{"lastResult": {"com": "", "nu": "1"}}',
    '{"lastResult": {"com": "sf", "nu": "1", "data": "x"}}', "x" * (600 * 1024)])
def test_unreadable_params_are_refused(param: str) -> None:
    with pytest.raises(BadPush):
        parse(param)


def test_unknown_fields_are_ignored() -> None:
    push = parse('{"status": "polling", "comNew": "", "lastResult": {"state": 0, "com": "sf",'
                 ' "nu": "1", "routeInfo": {}, "data": [{"context": "a", "ftime": '
                 '"2026-12-01 10:00:00", "areaCenter": "1,2"}]}}')
    assert push.lastResult.state == "0" and len(scans(push)[0]) == 1
