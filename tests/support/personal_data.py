"""An order with personal data of every kind, projected as the workflows project it (issue 17
§6): the customer's name, phone and e-mail, the destination's address and contact, a signer, a
note, a claim and a complaint whose texts name the customer. Shared by the retention tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from db.claims.queries import apply_claim_projection
from db.complaints.queries import apply_complaint_projection
from db.orders.queries import apply_projection
from tests.support import kpi_fixtures as fx
from workflows.claim.types import (
    ClaimCause,
    ClaimOutcome,
    ClaimProjection,
    ClaimState,
    ClaimStatus,
    ClaimStep,
    ClaimTimelineEntry,
)
from workflows.complaint.types import (
    ComplaintEntry,
    ComplaintProjection,
    ComplaintStatus,
    ComplaintStep,
)
from workflows.order.records import Delivery, Pod
from workflows.order.types import (
    Customer,
    LineState,
    OrderState,
    ProjectionInput,
    Stage,
    Tier,
    TimelineEntry,
)

KEYS = {"k1": b"k" * 32}
T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=400)
DAYS = 365
NAME, PHONE, EMAIL = "王小明", "+86 138 0013 8000", "xiaoming@example.com"
ADDRESS, CONTACT, SIGNER = "上海市浦东新区世纪大道88号", "李雷", "韩梅梅"
NOTE, DESCRIPTION = "客户王小明来电，说放在门卫室。", "箱子破了，王小明很生气"
SECRETS = (NAME, PHONE, EMAIL, ADDRESS, CONTACT, SIGNER, NOTE, DESCRIPTION)


def entry(event_id: str, type_: str, at: datetime, data: dict[str, Any]) -> TimelineEntry:
    return TimelineEntry(event_id=event_id, type=type_, occurred_at=at, recorded_at=at,
                         actor="desk", source="console", data=data)


def order(session: Session, order_id: str, closed: datetime) -> None:
    customer = Customer(id="C-A", name=NAME, tier=Tier.STANDARD, phone=PHONE, email=EMAIL)
    times = {"received": T0, "confirmed": T0, "picked": T0, "shipped": T0,
             "delivered": T0 + timedelta(days=1), "closed": closed}
    state = OrderState(
        order_id=order_id, customer=customer, lines=[LineState("SKU-1", 1)],
        destination={"address": ADDRESS, "city": "Shanghai", "contact": CONTACT,
                     "phone": PHONE},
        promised_ship_by=T0, promised_delivery_by=T0 + timedelta(days=2),
        policy=fx.POLICIES["standard"], stage=Stage.CLOSED, stage_times=times,
        delivery=Delivery(signer=SIGNER, condition="good", pod=Pod(kind="photo", ref="p-1")),
        seq=1)
    apply_projection(session, ProjectionInput(state=state, entries=[
        entry("order-created", "order_created", T0, {}),
        entry("e-delivered", "delivered", T0 + timedelta(days=1),
               {"signer": SIGNER, "condition": "good", "pod": {"kind": "photo", "ref": "p-1"}}),
        entry("e-note", "note", T0 + timedelta(days=1), {"text": NOTE}),
    ]), fx.rule_dates(ProjectionInput(state=state, entries=[])))


def claim(session: Session, order_id: str, closed: datetime | None) -> None:
    status = ClaimStatus(
        claim_id=f"{order_id}-CL1", order_id=order_id,
        customer=Customer(id="C-A", name=NAME, tier=Tier.STANDARD, phone=PHONE),
        cause=ClaimCause.DAMAGED, origin="api", description=DESCRIPTION, opened_at=T0,
        opened_by="desk", seq=2 if closed else 1,
        state=ClaimState.CLOSED if closed else ClaimState.OPEN,
        step=ClaimStep.CLOSED if closed else ClaimStep.OPENED,
        outcome=ClaimOutcome.WITHDRAWN if closed else None, closed_at=closed,
        step_times={"closed": closed} if closed else {})
    apply_claim_projection(session, ClaimProjection(status=status, entries=[
        ClaimTimelineEntry(seq=1, event_id="opened", type="opened", at=T0, occurred_at=T0,
                           actor="desk", source="api",
                           data={"cause": "damaged", "description": DESCRIPTION}),
        *([ClaimTimelineEntry(seq=2, event_id="c-note", type="customer_contacted", at=closed,
                              occurred_at=closed, actor="desk", source="api",
                              data={"channel": "phone", "note": f"{NAME} {PHONE}"})]
          if closed else [])]))


def complaint(session: Session, order_id: str | None, closed: datetime,
              complaint_id: str | None = None) -> None:
    """A closed complaint about `order_id` (None: about the customer's service in general)."""
    status = ComplaintStatus(
        complaint_id=complaint_id or f"{order_id}-CP1", order_id=order_id,
        customer=Customer(id="C-A", name=NAME, tier=Tier.STANDARD, email=EMAIL),
        origin="api", category="delay", description=DESCRIPTION, opened_at=T0,
        policy=fx.POLICIES["standard"], created_by="desk", created_by_role="operator",
        step=ComplaintStep.CLOSED, reply=f"致电{NAME}", plan="重新派送", resolution="已解决",
        closed_at=closed, seq=1)
    apply_complaint_projection(session, ComplaintProjection(status=status, entries=[
        ComplaintEntry(event_id="opened", type="opened", occurred_at=T0, recorded_at=T0,
                       actor="desk", source="api",
                       data={"description": DESCRIPTION, "category": "delay"})]))
