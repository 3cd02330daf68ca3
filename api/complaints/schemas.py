"""HTTP bodies of the complaint endpoints (kept apart from the workflow's payload types)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from api.escalations.schemas import EscalationView
from api.orders.schemas import CustomerIn, TimelineEntryView
from api.schemas import EventId, Id, Strict, instant
from workflows.complaint.types import ComplaintCategory, Department

LongText = Annotated[str, Field(min_length=1, max_length=4000)]
Comment = Annotated[str, Field(min_length=1, max_length=2000)]




class ComplaintCreate(Strict):
    """A complaint about one order (`order_id`: the customer and SLA policy are the order's),
    or about the service in general (`customer`: the policy is the newest of the customer's
    tier). `complaint_id` makes a retry safe: the same id and body return the same complaint."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"complaint_id": "CP-2026-0042", "order_id": "SO-1001", "category": "delay",
         "description": "The goods arrived two days late and nobody told us."},
        {"customer": {"id": "C-88", "name": "Sanghong Apparel", "tier": "key_account",
                      "email": "ops@example.com"},
         "category": "staff_conduct", "description": "The driver was rude at the dock."}]})

    complaint_id: Id | None = None
    order_id: Id | None = None
    customer: CustomerIn | None = None
    category: ComplaintCategory
    description: LongText

    @model_validator(mode="after")
    def _order_or_customer(self) -> ComplaintCreate:
        if (self.order_id is None) == (self.customer is None):
            raise ValueError("give either order_id or customer, not both")
        return self


class RoutedData(Strict):
    """To the responsible department; again to re-route, until the complaint is resolved."""

    department: Department
    category: ComplaintCategory | None = Field(
        default=None, description="re-categorize, e.g. a complaint raised by a survey score")
    note: Comment | None = None


class FirstReplyData(Strict):
    """What the customer was told: the reply, the plan, and a time by which it will be solved."""

    text: LongText
    plan: LongText
    promised_by: AwareDatetime
    channel: Literal["phone", "email", "chat", "in_person", "other"] | None = None
    _time = field_validator("promised_by")(instant)


class ResolvedData(Strict):
    text: LongText


class SatisfactionData(Strict):
    """The customer's satisfaction with the resolution."""

    score: int = Field(ge=1, le=5)
    comment: Comment | None = None


class NoteData(Strict):
    text: Comment


class _Event(Strict):
    event_id: EventId
    occurred_at: AwareDatetime
    _occurred = field_validator("occurred_at")(instant)


class RoutedEvent(_Event):
    type: Literal["routed"]
    data: RoutedData


class FirstReplyEvent(_Event):
    type: Literal["first_reply"]
    data: FirstReplyData


class ResolvedEvent(_Event):
    type: Literal["resolved"]
    data: ResolvedData


class SatisfactionEvent(_Event):
    type: Literal["satisfaction"]
    data: SatisfactionData


class NoteEvent(_Event):
    type: Literal["note"]
    data: NoteData


ComplaintEventIn = Annotated[
    RoutedEvent | FirstReplyEvent | ResolvedEvent | SatisfactionEvent | NoteEvent,
    Field(discriminator="type"),
]

COMPLAINT_EVENT_EXAMPLES: dict[str, Any] = {
    "routed": {"value": {"event_id": "cp-42-1", "type": "routed",
                         "occurred_at": "2026-12-04T09:10:00Z",
                         "data": {"department": "transport"}}},
    "first_reply": {"value": {
        "event_id": "cp-42-2", "type": "first_reply", "occurred_at": "2026-12-04T09:40:00Z",
        "data": {"text": "We are sorry: the truck broke down near Suzhou.",
                 "plan": "We refund the freight and add a backup carrier on your lane.",
                 "promised_by": "2026-12-06T18:00:00Z", "channel": "phone"}}},
    "resolved": {"value": {"event_id": "cp-42-3", "type": "resolved",
                           "occurred_at": "2026-12-05T15:00:00Z",
                           "data": {"text": "Freight refunded; backup carrier contracted."}}},
    "satisfaction": {"value": {"event_id": "cp-42-4", "type": "satisfaction",
                               "occurred_at": "2026-12-06T10:00:00Z",
                               "data": {"score": 4, "comment": "Quick and fair."}}},
    "note": {"value": {"event_id": "cp-42-5", "type": "note",
                       "occurred_at": "2026-12-04T11:00:00Z",
                       "data": {"text": "Carrier confirmed the breakdown."}}},
}


class Satisfaction(BaseModel):
    requested_at: datetime | None = None
    due_at: datetime | None = None
    outcome: str | None = Field(default=None, description="answered | unanswered")
    score: int | None = None
    comment: str | None = None
    at: datetime | None = None


class DueView(BaseModel):
    kind: str
    due_at: datetime


class ComplaintView(BaseModel):
    id: str
    order_id: str | None
    customer: dict[str, Any]
    origin: str
    category: str
    description: str
    survey: dict[str, Any] | None = None
    department: str | None = None
    step: str
    opened_at: datetime
    routed_at: datetime | None = None
    first_reply_at: datetime | None = None
    reply: str | None = None
    plan: str | None = None
    promised_by: datetime | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None
    satisfaction: Satisfaction
    closed_at: datetime | None = None
    deadlines: dict[str, datetime] = Field(
        description="route, first_reply and resolve (from acceptance); satisfaction (from "
                    "resolution)")
    due: DueView | None = Field(default=None, description="the awaited step's deadline")
    breached: bool
    breaches: list[dict[str, Any]]
    sla_policy: dict[str, str]
    workflow_id: str
    updated_at: datetime


class ComplaintDetail(ComplaintView):
    timeline: list[TimelineEntryView]
    escalations: list[EscalationView]


class ComplaintPage(BaseModel):
    items: list[ComplaintView]
    next_cursor: str | None = None


class ComplaintEventAccepted(BaseModel):
    event_id: str
    duplicate: bool = Field(description="the event was already applied; nothing changed")
    step: str
    complaint: ComplaintDetail
