"""KPI figures against a month worked out by hand (tests/support/kpi_fixtures.py), on both engines.

Times are UTC; durations in seconds. Percentiles are nearest-rank: pN is the
ceil(N/100 * n)-th smallest value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db.engine import session_factory, transaction
from db.orders.models import Order
from kpis import KpiQuery, PeriodError, compute_kpis, follow_up_monthly, month_bounds
from kpis.periods import range_bounds
from tests.support import kpi_fixtures as fx
from tests.support.builders import STANDARD
from tests.support.kpi_fixtures import AFTER_ALL, DEC, MID_NOV, NOV, durations, fig, rate
from workflows.policy import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with transaction(session_factory(engine)) as s:
        fx.november(s)
    with session_factory(engine)() as s:
        yield s


def kpis(session: Session, group_by: list[str] | None = None, period: Any = NOV,
         as_of: datetime = AFTER_ALL) -> dict[str, Any]:
    return compute_kpis(session, KpiQuery(period[0], period[1], group_by or [], as_of=as_of),
                        SHANGHAI).to_json()


def test_month_bounds_are_the_business_zones() -> None:
    assert month_bounds("2026-11", SHANGHAI) == NOV
    assert month_bounds("2026-12", SHANGHAI) == DEC
    assert range_bounds("2026-11-01", "2026-11-30", SHANGHAI) == NOV
    for bad in ("2026-13", "2026-1", "November", ""):
        with pytest.raises(PeriodError) as err:
            month_bounds(bad, SHANGHAI)
        assert err.value.code == "invalid_month"


def test_otif_on_time_and_in_full(session: Session) -> None:
    # Due in November (Shanghai): O1 O2 O3 O4 O5 O7 O9 = 7. Not O6 (cancelled), not O8
    # (due 11-30T17:00Z = Dec 1 in Shanghai). O9 (due 10-31T17:00Z = Nov 1 there) is in.
    # On time: O1, O2 (by the promise moved to 11-10), O3, O5, O9 = 5; O4 late, O7 in flight.
    # In full: O1, O2, O3 (6 of SKU-1 as agreed), O9 = 4; O4 short, O5 damaged, O7 undelivered.
    total = kpis(session)["total"]
    assert total["otif"] == rate(4, 7)
    assert total["on_time"] == rate(5, 7)
    assert total["in_full"] == rate(4, 7)


def test_an_order_in_flight_counts_once_its_promise_has_passed(session: Session) -> None:
    # On 11-24 O7's promise (11-25) is still ahead: 6 due, O7 not among them.
    early = kpis(session, as_of=MID_NOV)
    assert early["total"]["otif"] == rate(4, 6)
    assert early["total"]["on_time"] == rate(5, 6)
    assert early["period"]["as_of"] == "2026-11-24T00:00:00Z"
    # By December it has fallen due undelivered: late, and not in full.
    assert kpis(session)["total"]["on_time"] == rate(5, 7)


def test_month_boundaries_in_the_business_zone(session: Session) -> None:
    # December holds O8 alone, delivered 11-30T16:30Z (Dec 1 00:30 Shanghai) on time, in full.
    dec = kpis(session, period=DEC, as_of=datetime(2027, 1, 10, tzinfo=UTC))["total"]
    assert dec["otif"] == rate(1, 1)
    # Shipped 11-29T00:00Z, delivered 40.5 h later.
    assert dec["cycle_times"]["shipped_to_delivered"] == durations(1, 145800, 145800, 145800)
    # E3 opened 11-30T15:00Z (November there), acknowledged 16:30Z (December there).
    assert dec["escalations"]["opened"] == 0
    assert dec["escalations"]["time_to_acknowledge"] == durations(1, 5400, 5400, 5400)
    # In UTC terms October would hold O9's promise; in Shanghai's October nothing is due.
    oct_ = month_bounds("2026-10", SHANGHAI)
    assert kpis(session, period=oct_)["total"]["otif"] == rate(0, 0)


def test_cycle_times_per_transition(session: Session) -> None:
    ct = kpis(session)["total"]["cycle_times"]
    # received->confirmed ending in Nov: O1 7200, O2 7200, O3 3600, O4 14400, O5 1800,
    # O6 3600 (cancelled later, but it was confirmed), O7 7200, O8 3600; O9 is October's.
    # Sorted 1800 3600 3600 3600 7200 7200 7200 14400: p50 = 4th = 3600, p90 = 8th = 14400.
    assert ct["received_to_confirmed"] == durations(8, 3600, 14400, 14400)
    # 7200 7200 14400 14400 21600 21600 79200 (O5, O8, O1, O3, O2, O4, O7): 4th, 7th.
    assert ct["confirmed_to_picked"] == durations(7, 14400, 79200, 79200)
    # 50400 57600 64800 68400 75600 77400 86400
    assert ct["picked_to_shipped"] == durations(7, 68400, 86400, 86400)
    # O5 86400, O3 129600, O1 172800, O2 345600, O4 345600 (O8 ends in December): 3rd, 5th.
    assert ct["shipped_to_delivered"] == durations(5, 172800, 345600, 345600)
    # O5 21600, O9 43200 (delivered in October, archived 11-01), O1 172800, O3 302400,
    # O4 432000.
    assert ct["delivered_to_receipt_archived"] == durations(5, 172800, 432000, 432000)
    # O9 93600, O5 97200, O1 100800, O4 108000, O3 115200, O2 345600 (expired): 3rd, 6th.
    assert ct["delivered_to_followed_up"] == durations(6, 100800, 345600, 345600)
    assert ct["received_to_delivered"] == durations(5, 259200, 432000, 432000)


def test_receipt_return_rate_and_cycle(session: Session) -> None:
    # Due in Nov: O1 (11-12, back 11-07), O2 (11-16, never), O3 (key account, 3 days: 11-14
    # 12:00, back 11-15: late), O4 (11-22, back 11-20), O5 (11-22, back 11-19), O9 (11-07,
    # back 11-01). 4 of 6.
    total = kpis(session)["total"]
    assert total["receipt_return"] == rate(4, 6)
    assert total["receipt_cycle"] == durations(5, 172800, 432000, 432000)


def test_receipt_deadline_counts_working_time_of_the_policy_calendar(engine: Engine) -> None:
    # 8 working hours after Friday 11-13 17:00 Shanghai (09:00Z), with hours 09:00-18:00 on
    # weekdays, is Monday 11-16 16:00 there (08:00Z). Returned on the Sunday: in time, though
    # 8 wall-clock hours would have made it late.
    policy = replace(STANDARD, name="office", receipt_within=8 * 3600.0,
                     calendar=BusinessCalendar("Asia/Shanghai", {
                         d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}))
    with transaction(session_factory(engine)) as s:
        fx.order(s, "OC", "C-A", "11-14T00:00", {
            "received": "11-12T00:00", "delivered": "11-13T09:00",
            "receipt_archived": "11-15T02:00"}, carrier="SF", on_time=True, in_full=True,
            policy=policy)
    with session_factory(engine)() as s:
        assert s.get_one(Order, "OC").receipt_due_at == datetime(2026, 11, 16, 8, tzinfo=UTC)
        total = kpis(s)["total"]
    assert total["receipt_return"] == rate(1, 1)
    assert total["receipt_cycle"] == durations(1, 147600, 147600, 147600)


def test_follow_ups_and_satisfaction(session: Session) -> None:
    # Due in Nov: O1, O2, O3, O4, O5, O9 (O8's falls due 12-01 16:30Z). Every one was
    # invited; answered O1, O3, O4, O9; O2 expired, O5 refused on the phone.
    total = kpis(session)["total"]
    assert total["follow_up"] == rate(6, 6)
    assert total["successful_follow_up"] == rate(4, 6)
    # arrival 5, 2, 1, 5; service 4, 3, 2, 5.
    assert total["satisfaction"] == {
        "arrival": {"count": 4, "sum": 13, "mean": 3.25,
                    "distribution": {"1": 1, "2": 1, "3": 0, "4": 0, "5": 2}},
        "service": {"count": 4, "sum": 14, "mean": 3.5,
                    "distribution": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}}}


def test_escalations_complaints_and_claims(session: Session) -> None:
    total = kpis(session)["total"]
    # E1 reached level 2; E2, E3 level 1. Ack: E2 600, E1 3600 (from opening to its first
    # acknowledgement, after the climb); E3's falls in December. Resolved: E1 86400.
    assert total["escalations"] == {
        "opened": 3, "by_level": {"1": 2, "2": 1},
        "by_stage": {"in_transit": 2, "picked": 1},
        "by_kind": {"delivery_late": 1, "late_risk": 1, "ship_late": 1},
        "time_to_acknowledge": durations(2, 600, 3600, 3600),
        "time_to_resolve": durations(1, 86400, 86400, 86400)}
    # First replies 7200 (O3-CP1) and 3600 (O4-CP1); O3-CP1 resolved in 172800, scored 4.
    assert total["complaints"]["opened"] == 2
    assert total["complaints"]["time_to_first_reply"] == durations(2, 3600, 7200, 7200)
    assert total["complaints"]["time_to_resolution"] == durations(1, 172800, 172800, 172800)
    assert total["complaints"]["satisfaction"]["mean"] == 4.0
    assert total["complaints"]["satisfaction"]["count"] == 1
    cny = [{"currency": "CNY", "amount_minor": 15000}]
    assert total["claims"] == {
        "opened": 2, "amounts": cny,
        "by_liability": {"carrier": {"count": 1, "amounts": cny},
                         "undecided": {"count": 1, "amounts": []}},
        "by_cause": {"damaged": {"count": 1, "amounts": cny},
                     "short": {"count": 1, "amounts": []}}}


def test_grouped_by_customer_and_tier(session: Session) -> None:
    report = kpis(session, ["customer", "tier"])
    assert [g["key"] for g in report["groups"]] == [
        {"customer": "C-A", "tier": "standard"}, {"customer": "C-B", "tier": "key_account"},
        {"customer": "C-C", "tier": "standard"}]
    a = fig(report, {"customer": "C-A", "tier": "standard"})
    b = fig(report, {"customer": "C-B", "tier": "key_account"})
    c = fig(report, {"customer": "C-C", "tier": "standard"})
    # C-A: O1 O2 O7 O9, all but O7 OTIF. C-B: O3 (OTIF), O5 (damaged). C-C: O4.
    assert (a["otif"], a["on_time"]) == (rate(3, 4), rate(3, 4))
    assert (b["otif"], b["on_time"], b["in_full"]) == (rate(1, 2), rate(2, 2), rate(1, 2))
    assert c["otif"] == rate(0, 1)
    # Follow-ups: C-A O1 O2 O9 (2 answered), C-B O3 O5 (1), C-C O4 (1).
    assert a["successful_follow_up"] == rate(2, 3)
    assert b["successful_follow_up"] == rate(1, 2)
    assert c["claims"]["opened"] == 1 and b["claims"]["amounts"][0]["amount_minor"] == 15000
    assert c["escalations"]["by_level"] == {"2": 1}
    assert a["cycle_times"]["received_to_confirmed"]["count"] == 4  # O1 O2 O6 O7
    # The groups add up to the total.
    assert sum(g["figures"]["otif"]["denominator"] for g in report["groups"]) == 7
    tiers = kpis(session, ["tier"])
    standard = fig(tiers, {"tier": "standard"})
    assert standard["otif"] == rate(3, 5)  # O1 O2 O4 O7 O9
    assert standard["receipt_return"] == rate(3, 4)  # O1, O4, O9 of O1 O2 O4 O9


def test_grouped_by_carrier_and_policy(session: Session) -> None:
    report = kpis(session, ["carrier", "sla_policy"])
    sf = fig(report, {"carrier": "SF", "sla_policy": "standard"})
    assert sf["otif"] == rate(3, 4)  # O1 O2 O7 O9
    jd_key = fig(report, {"carrier": "JD", "sla_policy": "key_account"})
    assert jd_key["otif"] == rate(1, 1)  # O3
    # Escalations and claims take the carrier from their order.
    assert fig(report, {"carrier": "JD", "sla_policy": "standard"})["claims"]["opened"] == 1
    # O6 was cancelled before shipping: no carrier, and its group sorts last.
    assert report["groups"][-1]["key"] == {"carrier": None, "sla_policy": "standard"}


def test_unknown_group_key_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown group keys"):
        KpiQuery(NOV[0], NOV[1], ["warehouse"])


def test_monthly_follow_up_report(session: Session) -> None:
    report = follow_up_monthly(session, "2026-11", SHANGHAI, as_of=AFTER_ALL).to_json()
    assert report["month"] == "2026-11"
    assert report["period"]["from"] == "2026-10-31T16:00:00Z"
    total = report["total"]
    assert (total["due"], total["attempted"], total["answered"]) == (6, 6, 4)
    assert total["follow_up_rate"] == rate(6, 6)
    assert total["successful_follow_up_rate"] == rate(4, 6)
    assert total["outcomes"] == {"answered": 4, "expired": 1, "refused": 1}
    # Every answer to every question: 5 2 1 5 4 3 2 5 -> 27 / 8.
    assert total["overall_satisfaction"]["mean"] == 3.375
    assert total["overall_satisfaction"]["distribution"] == {
        "1": 1, "2": 2, "3": 1, "4": 1, "5": 3}
    assert total["problems"] == [
        {"label": "low_score:arrival", "count": 2}, {"label": "low_score:service", "count": 2},
        {"label": "goods_not_ok", "count": 1}]  # a suggestion is no problem (issue 18 §6)
    assert total["suggestions"] == [{"label": "call before delivery", "count": 2}]
    customers = {g["key"]: g["figures"] for g in report["by_customer"]}
    assert [(k, f["due"], f["answered"]) for k, f in customers.items()] == [
        ("C-A", 3, 2), ("C-B", 2, 1), ("C-C", 1, 1)]
    tiers = {g["key"]: g["figures"] for g in report["by_tier"]}
    assert tiers["standard"]["successful_follow_up_rate"] == rate(3, 4)
    assert tiers["key_account"]["satisfaction"]["arrival"]["sum"] == 2
    # December's report holds O8's follow-up only once it has fallen due (12-01 16:30Z).
    dec = follow_up_monthly(session, "2026-12", SHANGHAI, as_of=AFTER_ALL).to_json()
    assert dec["total"]["due"] == 1 and dec["total"]["answered"] == 0
