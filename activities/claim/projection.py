"""The claim's read-model write and the notices a claim's changes give rise to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.notify.delivery_start import DeliveryStarter, deliver_after_commit
from db.claims.queries import apply_claim_projection
from db.engine import transaction
from db.notifications.outbox import Audience, Notice, NotificationEvent, enqueue
from db.notifications.templates import normalize_locale
from workflows.claim.types import (
    ClaimOutcome,
    ClaimProjection,
    ClaimStatus,
    ClaimSystemEvent,
    ClaimTimelineEntry,
    Liability,
)

CAUSE_TEXT = {
    "zh-CN": {"damaged": "货物破损", "short": "货物短少", "refused": "收货人拒收",
              "lost": "货物丢失", "other": "其他"},
    "en": {"damaged": "damaged goods", "short": "short delivery", "refused": "refused delivery",
           "lost": "lost shipment", "other": "other"},
}
# Why a claim closed without payment, by outcome and, for no compensation, by who was liable.
CLOSED_TEXT = {
    "zh-CN": {ClaimOutcome.WITHDRAWN: "理赔申请已撤回",
              Liability.CUSTOMER: "经核实，损失并非在运输或仓储过程中造成",
              Liability.FORCE_MAJEURE: "经核实，损失系不可抗力所致",
              None: "经核实，本次无需赔付"},
    "en": {ClaimOutcome.WITHDRAWN: "the claim was withdrawn",
           Liability.CUSTOMER: "our review found the loss did not occur in our care",
           Liability.FORCE_MAJEURE: "our review found the loss was caused by force majeure",
           None: "our review found no compensation is due"},
}


def money(minor: int | None) -> str | None:
    """Minor units as a decimal amount (two decimals: CNY, the policies' currency)."""
    if minor is None:
        return None
    return f"{minor // 100:,}.{minor % 100:02d}"


def _closed_text(status: ClaimStatus, locale: str) -> str:
    texts = CLOSED_TEXT[locale]
    if status.outcome == ClaimOutcome.WITHDRAWN:
        return texts[ClaimOutcome.WITHDRAWN]
    return texts.get(status.liability, texts[None])


def claim_notices(status: ClaimStatus, entries: list[ClaimTimelineEntry]) -> list[Notice]:
    """The customer is told when the claim opens (the desk gets a copy), when the payout is
    issued, and when it closes without one."""
    locale = normalize_locale(status.customer.language)
    data: dict[str, Any] = {
        "customer_name": status.customer.name, "claim_id": status.claim_id,
        "cause": status.cause.value, "cause_text": CAUSE_TEXT[locale][status.cause.value],
        "amount": money(status.amount_minor), "currency": status.currency,
        "voucher": status.voucher}
    notices = []
    for entry in entries:
        teams: list[str] = []
        if entry.type == ClaimSystemEvent.OPENED.value:
            event, teams = NotificationEvent.CLAIM_OPENED, status.desk
        elif entry.type == ClaimSystemEvent.CLOSED.value and status.outcome == ClaimOutcome.PAID:
            event = NotificationEvent.CLAIM_PAYOUT_ISSUED
        elif entry.type == ClaimSystemEvent.CLOSED.value:
            event = NotificationEvent.CLAIM_CLOSED
            data = {**data, "outcome": status.outcome.value if status.outcome else None,
                    "outcome_text": _closed_text(status, locale)}
        else:
            continue
        notices.append(Notice(
            key=f"claim:{status.claim_id}:{entry.event_id}", event_type=event.value,
            audience=Audience.CUSTOMER.value, order_id=status.order_id, locale=locale,
            customer_email=status.customer.email, teams=list(teams), data=data,
            # whose channel choice applies: an opted-out customer gets no e-mail about a claim
            customer_id=status.customer.id))
    return notices


class ClaimActivities:
    def __init__(self, sessions: sessionmaker[Session],
                 starter: DeliveryStarter | None = None) -> None:
        self._sessions = sessions
        self._starter = starter

    @activity.defn
    def project_claim(self, inp: ClaimProjection) -> list[str]:
        """Upsert keyed by claim id and timeline seq: safe to retry.

        Returns the outbox rows (written in the same transaction) still awaiting delivery,
        whose DeliveryWorkflows it started once the transaction committed.
        """
        with transaction(self._sessions) as session:
            apply_claim_projection(session, inp)
            outbox = enqueue(session, claim_notices(inp.status, inp.entries))
        return deliver_after_commit(self._starter, outbox)
