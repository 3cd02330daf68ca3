"""HTTP bodies of the webhook subscription and inbox endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from api.schemas import Strict
from db.notifications.outbox import NotificationEvent


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


_ANSWERED = re.compile(r"^(webhook answered \d{3})\b.*", re.DOTALL)


def public_error(text: str | None) -> str | None:
    """A delivery error as shown: for a refusal only the status code, never what the
    receiver said (rows written before 0012 quoted its body)."""
    return None if text is None else _ANSWERED.sub(r"\1", text)


# A stored delivery error as the API shows it.
PublicError = Annotated[str | None, AfterValidator(public_error)]


class SubscriptionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    consecutive_failures: int
    last_error: PublicError
    last_failure_at: datetime | None
    last_success_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="until then the secret replaced by the last rotation signs too")
    created_at: datetime
    created_by: str
    updated_at: datetime


class SubscriptionCreated(SubscriptionView):
    secret: str = Field(description="signing secret: shown only in this response, keep it safe")


class SubscriptionList(BaseModel):
    items: list[SubscriptionView]


MAX_OVERLAP_SECONDS = 7 * 24 * 3600


class SecretRotation(Strict):
    overlap_seconds: int = Field(
        default=86400, ge=0, le=MAX_OVERLAP_SECONDS,
        description="how long the old secret keeps signing too (both signatures are sent)")


class SecretRotated(SubscriptionView):
    secret: str = Field(description="the new signing secret: shown only in this response")


class DeliveryView(BaseModel):
    """One message to a subscription: `id` is its `webhook-id`."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event_type: str
    order_id: str | None
    status: str
    attempts: int
    last_http_status: int | None
    last_error: PublicError
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None = None


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
