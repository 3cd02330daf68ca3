"""HTTP views of escalations: one ladder, and a page of them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import (
    BaseModel,
    Field,
)


class EscalationView(BaseModel):
    id: str
    order_id: str
    breach_id: str
    kind: str
    stage: str
    level: int
    state: str
    customer_id: str
    customer_tier: str
    due_at: datetime
    opened_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_code: str | None = None
    resolution: str | None = None
    assignee: str | None = None
    recipients: list[str] | None = None
    level_since: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    snoozed_until: datetime | None = None
    next_step_at: datetime | None = None
    subject: str = Field(default="", description="what breached when not the order itself: "
                         "claim:<id> or complaint:<id>")


class EscalationPage(BaseModel):
    items: list[EscalationView]
