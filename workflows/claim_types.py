"""Payloads between an order and its claims (理赔); the claim's own types live beside them.

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from workflows.types import Customer, LineState, SlaPolicy, Stage


class ClaimCause(StrEnum):
    DAMAGED = "damaged"
    SHORT = "short"
    REFUSED = "refused"
    LOST = "lost"
    OTHER = "other"


def claim_workflow_id(claim_id: str) -> str:
    return f"claim-{claim_id}"


@dataclass
class ClaimInput:
    """Opens a ClaimWorkflow. `origin`: delivery (POD condition), delivery_exception (lost),
    or manual (POST /v1/orders/{id}/claims). With `notify_order` the claim signals the order's
    `claim_closed` when it closes, because the order cannot close while a claim is open."""

    claim_id: str
    order_id: str
    cause: ClaimCause
    origin: str
    opened_at: datetime
    actor: str
    source: str
    customer: Customer
    order_stage: Stage
    policy: SlaPolicy
    lines: list[LineState]
    description: str = ""
    notify_order: bool = True


@dataclass
class ClaimClosed:
    """Signal to the order: this claim is closed (paid out, or closed without payment)."""

    claim_id: str
    outcome: str


@dataclass
class OpenClaimInput:
    """Update on the order: open a claim by hand."""

    cause: ClaimCause
    description: str
    actor: str
    source: str
