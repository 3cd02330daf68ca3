"""Which customer notices an order's entries give (activities/order/notices.py), pure: every one
carries the tracking and opt-out links and the customer's phone, id and zone; the first scan
says "in transit" once, the carrier's out-for-delivery status once; "may be late" goes once per
ETA it reports, and again only when the ETA changes again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from activities.order.notices import order_notices
from tests.support.builders import order_input
from workflows.order.types import (
    Breach,
    BreachKind,
    LineState,
    OrderState,
    Stage,
    SystemEventType,
    TimelineEntry,
)

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


def state(stage: Stage = Stage.IN_TRANSIT, late_risk: bool = False) -> OrderState:
    inp = order_input(NOW, order_id="SO-9")
    breaches = [Breach(id="b-1", kind=BreachKind.LATE_RISK, stage=stage,
                       due_at=inp.promised_delivery_by, detected_at=NOW)] if late_risk else []
    return OrderState(
        order_id="SO-9", customer=inp.customer,
        lines=[LineState(sku=line.sku, ordered=line.qty) for line in inp.lines],
        destination=inp.destination, promised_ship_by=inp.promised_ship_by,
        promised_delivery_by=inp.promised_delivery_by, policy=inp.policy, stage=stage,
        stage_times={}, breaches=breaches)


def entry(event_id: str, type_: str, **data: Any) -> TimelineEntry:
    return TimelineEntry(event_id=event_id, type=type_, occurred_at=NOW, recorded_at=NOW,
                         data=data)


def notices(st: OrderState, entries: list[TimelineEntry], eta: datetime | None = None
            ) -> list[tuple[str, str]]:
    found = order_notices(st, entries, eta, tracking_url=lambda o: f"https://wb.cn/t/{o}",
                          opt_out_url=lambda o: f"https://wb.cn/u/{o}")
    return [(n.event_type, n.key) for n in found if n.audience == "customer"]


def test_every_customer_notice_carries_links_phone_id_and_zone() -> None:
    st = state(Stage.CONFIRMED)
    st.customer.phone = "+86 138 0013 8000"
    (found,) = order_notices(st, [entry("e1", "confirmed")], None,
                             tracking_url=lambda o: f"https://wb.cn/t/{o}",
                             opt_out_url=lambda o: f"https://wb.cn/u/{o}")
    assert found.data["tracking_url"] == "https://wb.cn/t/SO-9"
    assert found.data["opt_out_url"] == "https://wb.cn/u/SO-9"
    assert (found.customer_id, found.customer_phone) == (st.customer.id, "+86 138 0013 8000")
    calendar = st.policy.calendar
    assert found.customer_zone == (calendar.timezone if calendar else None)


def test_scans_say_in_transit_and_out_for_delivery_once_each() -> None:
    scans = [entry("s1", "tracking_scan", location="Hangzhou", status="in_transit"),
             entry("s2", "tracking_scan", location="Shanghai", status="OutForDelivery"),
             entry("s3", "tracking_scan", location="Shanghai", status="in_transit")]
    assert notices(state(), scans) == [("order.in_transit", "SO-9:in_transit"),
                                       ("order.out_for_delivery", "SO-9:out_for_delivery")]
    # After delivery a late scan tells the customer nothing.
    assert notices(state(Stage.DELIVERED), scans[:1]) == []


def test_may_be_late_once_per_eta_and_again_when_the_eta_changes() -> None:
    st = state()
    late = st.promised_delivery_by + timedelta(days=2)
    later = late + timedelta(days=1)
    breach = entry("breach-1", SystemEventType.SLA_BREACH.value, kind="late_risk")
    first = notices(st, [breach], eta=late)
    assert first == [("order.delay_risk", f"SO-9:delay_risk:{late.isoformat()}")]
    told = state(late_risk=True)
    # The same ETA again: the same key (the outbox writes it once); a new ETA: a new notice.
    same = notices(told, [entry("s4", "tracking_scan", location="x", status="delayed",
                                eta=late.isoformat())], eta=late)
    assert same == first
    in_shanghai = late.astimezone(timezone(timedelta(hours=8))).isoformat()
    assert notices(told, [entry("s4b", "tracking_scan", location="x", status="delayed",
                                eta=in_shanghai)], eta=late) == first
    changed = notices(told, [entry("s5", "tracking_scan", location="x", status="delayed",
                                   eta=later.isoformat())], eta=later)
    assert changed == [("order.delay_risk", f"SO-9:delay_risk:{later.isoformat()}")]
    # Before the late-risk breach, a late ETA is the breach's to tell (after its grace).
    assert notices(st, [entry("s6", "tracking_scan", location="x", status="delayed",
                              eta=late.isoformat())], eta=late) == [
        ("order.in_transit", "SO-9:in_transit")]
