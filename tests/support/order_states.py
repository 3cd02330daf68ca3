"""An order with every part of its state filled, shaped as the workflow writes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.builders import STANDARD
from workflows.order.records import (
    DecisionRecord,
    Delivery,
    ExceptionRecord,
    FollowUpCall,
    Pod,
    QtyLine,
    Receipt,
    ReceiptDocument,
    ReceiptVersion,
    Shipment,
)
from workflows.order.types import (
    Breach,
    BreachKind,
    ClaimRef,
    Customer,
    Deadline,
    FollowUpStatus,
    LineState,
    OrderState,
    PendingDecision,
    Scan,
    Stage,
    Survey,
    Tier,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SHA = "a" * 64


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def full_state() -> OrderState:
    """An order with every part of its state filled, shaped as the workflow writes them."""
    document = ReceiptDocument(ref=f"archive:sha256:{SHA}", sha256=SHA,
                               content_type="application/pdf", size=1234, filename="r.pdf")
    returned = hours(60).isoformat()
    return OrderState(
        order_id="SO-1", customer=Customer(id="C-1", name="Acme", tier=Tier.KEY_ACCOUNT),
        lines=[LineState(sku="SKU-1", ordered=10, picked=8, shipped=8, delivered=8, agreed=8)],
        destination={"address": "1 Road"}, promised_ship_by=hours(24),
        promised_delivery_by=hours(72), policy=STANDARD, stage=Stage.FOLLOWED_UP,
        stage_times={"received": T0, "confirmed": hours(2), "picked": hours(6),
                     "shipped": hours(20), "in_transit": hours(20), "delivered": hours(56),
                     "receipt_archived": hours(60), "followed_up": hours(90)},
        shipment=Shipment(carrier="SF Express", tracking_no="SF1", vehicle=None, driver="W"),
        scans=[Scan(event_id="s1", occurred_at=hours(30), location="Hub", status="departed",
                    eta=hours(50), seen_at=hours(30))],
        delivery=Delivery(signer="Li", condition="damaged",
                          pod=Pod(kind="signature", ref="pod/1.png")),
        receipt=Receipt(document=document, returned_at=returned, versions=(ReceiptVersion(
            version=1, ref=document.ref, sha256=SHA, content_type="application/pdf", size=1234,
            filename="r.pdf", returned_at=returned, actor="desk", previous_sha256=None),)),
        survey=Survey(status=FollowUpStatus.ANSWERED, due_at=hours(80), expires_at=hours(150),
                      scores={"timeliness": 2}, comment="late", answered_at=hours(90),
                      remind_at=hours(115), goods_ok=False, channel="phone", outcome="answered",
                      calls=[FollowUpCall(at=hours(90).isoformat(), outcome="answered",
                                          actor="desk", note=None)],
                      problems=["low_score:timeliness", "goods_not_ok"]),
        breaches=[Breach(id="b1", kind=BreachKind.PICK_LATE, stage=Stage.CONFIRMED,
                         due_at=hours(10), detected_at=hours(10), cleared_at=hours(12),
                         cleared_by="ev-2", escalation_id="esc-1")],
        cancel_reason=None, next_deadline=Deadline(kind="survey_window", due_at=hours(150)),
        decision=PendingDecision(kind="short_pick", reported_at=hours(12), due_at=hours(20),
                                 event_id="ev-3", available={"SKU-1": 8}),
        decisions=[DecisionRecord(kind="stock_shortage", decision="partial",
                                  decided_by="Ms Zhang", recorded_by="desk",
                                  at=hours(5).isoformat(), lines=(QtyLine(sku="SKU-1", qty=8),),
                                  promised_delivery_by=None)],
        exceptions=[ExceptionRecord(event_id="ev-4", reason="weather", text="snow",
                                    at=hours(40).isoformat(), actor="sf",
                                    promised_delivery_by=hours(80))],
        claims=[ClaimRef(claim_id="SO-1-CL1", cause="damaged", opened_at=hours(70),
                         origin="delivery")],
        complaints=["SO-1-CP1"], lost=False)
