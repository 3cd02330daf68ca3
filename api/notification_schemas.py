"""HTTP bodies of the webhook subscription and inbox endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.schemas import Strict
from db.notifications import NotificationEvent


def _webhook_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the URL must be http:// or https:// with a host")
    if any(c.isspace() for c in value):
        raise ValueError("the URL must not contain whitespace")
    return value


def _unique(values: list[NotificationEvent]) -> list[NotificationEvent]:
    return list(dict.fromkeys(values))


WebhookUrl = Annotated[str, Field(min_length=8, max_length=2000,
                                  examples=["https://hooks.example.com/waybill"]),
                       AfterValidator(_webhook_url)]
EventTypes = Annotated[list[NotificationEvent],
                       Field(min_length=1, max_length=50,
                             description="event types to receive: "
                                         + ", ".join(e.value for e in NotificationEvent)),
                       AfterValidator(_unique)]
Description = Annotated[str, Field(max_length=500)]


class SubscriptionCreate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "url": "https://hooks.example.com/waybill",
        "event_types": ["order.shipped", "order.delay_risk"],
        "description": "CRM"}]})

    url: WebhookUrl
    event_types: EventTypes
    description: Description | None = None


class SubscriptionPatch(Strict):
    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    active: bool | None = Field(default=None, description="true re-enables and resets failures")

    @model_validator(mode="after")
    def _no_nulls(self) -> SubscriptionPatch:
        for name in ("url", "event_types", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} may be left out but not null")
        return self


class SubscriptionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    consecutive_failures: int
    last_error: str | None
    last_failure_at: datetime | None
    last_success_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(description="signing secret: shown only in this response, keep it safe")


class SubscriptionList(BaseModel):
    items: list[SubscriptionView]


class InboxItemView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    team: str
    event_type: str
    title: str
    body: str
    order_id: str | None
    escalation_id: str | None
    created_at: datetime
    read_at: datetime | None
    read_by: str | None


class InboxPage(BaseModel):
    items: list[InboxItemView]
    unread_count: int
    next_cursor: str | None = None
