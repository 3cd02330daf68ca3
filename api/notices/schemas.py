"""Request and response bodies of a customer's notice preferences."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Choice(StrEnum):
    """Which channels the customer hears on, in one word."""

    BOTH = "both"
    EMAIL = "email"
    SMS = "sms"
    NONE = "none"


class NoticePreferencesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"email": True, "sms": False}]})

    email: bool = Field(description="send e-mail notices (to the address on each order)")
    sms: bool = Field(description="send SMS notices (to the phone on each order)")


class NoticePreferences(BaseModel):
    customer_id: str
    email: bool
    sms: bool
    choice: Choice
    updated_at: datetime | None = Field(description="null: never chosen (every channel on)")
    updated_by: str | None = Field(description="`customer` (the opt-out link) or a key's name")
