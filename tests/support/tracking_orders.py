"""Orders for the tracking page's tests (issue 19 §2), projected as the order workflow projects
them: on their way with scans, an ETA and a delivery exception; delivered with a proof and an
open survey; closed (then redacted). Every personal value is one the page must not show whole.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from activities.order.projection import rule_dates
from db.orders.queries import apply_projection
from tests.support.builders import STANDARD
from workflows.order.records import Delivery, ExceptionRecord, Pod, Shipment
from workflows.order.types import (
    Customer,
    FollowUpStatus,
    LineState,
    OrderState,
    ProjectionInput,
    Scan,
    Stage,
    Survey,
    Tier,
    TimelineEntry,
)
from workflows.policy import BusinessCalendar

# Monday 2026-12-07 01:00 UTC = 09:00 in Shanghai, 10:00 in Tokyo.
T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
CUSTOMER_NAME, CUSTOMER_PHONE, EMAIL = "王小明", "+86 139 1234 5678", "xiaoming@example.com"
CONTACT, PHONE, ADDRESS = "李雷", "138-0013-8000", "上海市浦东新区世纪大道88号"
SIGNER, DRIVER, VEHICLE = "韩梅梅", "张师傅", "沪A-12345"
EXCEPTION_TEXT = "司机张师傅说门卫不让进"
POD_REF = "pod/secret-storage-key.jpg"
COURIER = "派送员 186 2000 3000"  # in the last scan's status, as carriers write it
# What the page must never show (the consignee's phone only as its last four digits).
PERSONAL = (CUSTOMER_NAME, CUSTOMER_PHONE, EMAIL, CONTACT, PHONE, ADDRESS, SIGNER, DRIVER,
            VEHICLE, EXCEPTION_TEXT, POD_REF, "13800138000", "世纪大道", COURIER,
            "186 2000")
TOKYO = replace(STANDARD, calendar=BusinessCalendar(
    timezone="Asia/Tokyo", hours={d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}))


def _state(order_id: str, stage: Stage, times: dict[str, datetime], tracking_no: str | None,
           language: str = "zh-CN", destination_phone: str | None = PHONE,
           tokyo: bool = False) -> OrderState:
    destination = {"address": ADDRESS, "city": "上海", "contact": CONTACT, "postcode": "200120"}
    if destination_phone is not None:
        destination["phone"] = destination_phone
    return OrderState(
        order_id=order_id,
        customer=Customer(id="C-88", name=CUSTOMER_NAME, tier=Tier.STANDARD,
                          phone=CUSTOMER_PHONE, email=EMAIL, language=language),
        lines=[LineState("SKU-1", 10), LineState("SKU-2", 4)], destination=destination,
        promised_ship_by=T0 + timedelta(days=1), promised_delivery_by=T0 + timedelta(days=3),
        policy=TOKYO if tokyo else STANDARD, stage=stage,
        stage_times={k: v for k, v in times.items()},
        shipment=Shipment(carrier="顺丰速运", tracking_no=tracking_no, vehicle=VEHICLE,
                          driver=DRIVER) if tracking_no else None,
        seq=1)


def _times(*stages: Stage) -> dict[str, datetime]:
    return {s.value: T0 + timedelta(hours=3 * i) for i, s in enumerate(stages)}


def _project(session: Session, state: OrderState) -> None:
    created = TimelineEntry(event_id="order-created", type="order_created", occurred_at=T0,
                            recorded_at=T0, data={})
    inp = ProjectionInput(state=state, entries=[created])
    apply_projection(session, inp, rule_dates(inp))


MOVING = (Stage.RECEIVED, Stage.CONFIRMED, Stage.PICKED, Stage.SHIPPED, Stage.IN_TRANSIT)


def moving(session: Session, order_id: str, tracking_no: str, *, language: str = "zh-CN",
           reason: str | None = "consignee_absent", scans: int = 12, late: bool = True,
           destination_phone: str | None = PHONE, tokyo: bool = False) -> None:
    """In transit with `scans` scans an hour apart (the last with an ETA, a day past the
    promise when `late`) and, with a `reason`, a delivery exception after them."""
    state = _state(order_id, Stage.IN_TRANSIT, _times(*MOVING), tracking_no, language,
                   destination_phone, tokyo)
    start = T0 + timedelta(hours=12)
    eta = T0 + timedelta(days=4 if late else 2)
    state.scans = [Scan(event_id=f"scan-{i:02d}", occurred_at=start + timedelta(hours=i),
                        location=f"转运中心{i:02d}",
                        status=f"已到达 hub-{i:02d}" if i < scans - 1 else COURIER,
                        eta=eta if i == scans - 1 else None, seen_at=start + timedelta(hours=i))
                   for i in range(scans)]
    if reason:
        state.exceptions = [ExceptionRecord(
            event_id="exc-1", reason=reason, text=EXCEPTION_TEXT,
            at=(start + timedelta(hours=scans)).isoformat(), actor="carrier:sf",
            promised_delivery_by=T0 + timedelta(days=5))]
    _project(session, state)


def delivered(session: Session, order_id: str, tracking_no: str, *, language: str = "zh-CN",
              survey: FollowUpStatus | None = FollowUpStatus.DUE,
              now: datetime | None = None) -> None:
    """Delivered with a signature, its survey `survey` (open a week from `now`)."""
    state = _state(order_id, Stage.DELIVERED, _times(*MOVING, Stage.DELIVERED), tracking_no,
                   language)
    state.delivery = Delivery(signer=SIGNER, condition="intact",
                              pod=Pod(kind="signature", ref=POD_REF))
    if survey is not None:
        opened = now or datetime.now(UTC)
        state.survey = Survey(status=survey, due_at=opened - timedelta(hours=1),
                              expires_at=opened + timedelta(days=7))
    _project(session, state)


def closed(session: Session, order_id: str, tracking_no: str) -> None:
    state = _state(order_id, Stage.CLOSED,
                   _times(*MOVING, Stage.DELIVERED, Stage.RECEIPT_ARCHIVED, Stage.FOLLOWED_UP,
                          Stage.CLOSED), tracking_no)
    state.delivery = Delivery(signer=SIGNER, condition="intact",
                              pod=Pod(kind="photo", ref=POD_REF))
    _project(session, state)


def received(session: Session, order_id: str, language: str = "en") -> None:
    _project(session, _state(order_id, Stage.RECEIVED, _times(Stage.RECEIVED), None, language))


def cancelled(session: Session, order_id: str) -> None:
    times = _times(Stage.RECEIVED, Stage.CONFIRMED)
    times[Stage.CANCELLED.value] = T0 + timedelta(hours=5)
    state = _state(order_id, Stage.CANCELLED, times, None, "en")
    state.cancel_reason = "客户王小明取消"
    _project(session, state)
