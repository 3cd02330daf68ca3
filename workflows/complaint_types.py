"""Payloads that open a complaint (投诉), from the API or from a low survey score.

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.types import Customer, SlaPolicy, Stage


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


@dataclass
class ComplaintInput:
    """`origin`: api or survey. `order_id` is None for a complaint about the customer's service
    in general. `survey` holds the answers that raised it (scores, goods_ok, suggestions)."""

    complaint_id: str
    customer: Customer
    order_id: str | None
    origin: str
    category: str
    description: str
    opened_at: datetime
    actor: str
    source: str
    policy: SlaPolicy
    order_stage: Stage | None = None
    survey: dict[str, Any] | None = None
