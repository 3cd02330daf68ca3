"""API keys as the admin API shows them: never the key (only at creation) nor its hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from api.permissions import Role
from workflows.order.types import EventType

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ScopeValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=120)]
MAX_SCOPE_VALUES = 200  # a bounded list: a key for more customers than this is an unscoped key
KeyState = Literal["active", "expired", "revoked"]


class KeyScope(BaseModel):
    """What an integration key is limited to; null (or absent) = no limit of that kind."""

    model_config = ConfigDict(extra="forbid")

    event_types: list[EventType] | None = Field(default=None, max_length=len(EventType))
    customers: list[ScopeValue] | None = Field(default=None, max_length=MAX_SCOPE_VALUES)
    carriers: list[ScopeValue] | None = Field(default=None, max_length=MAX_SCOPE_VALUES)


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "wms-east", "role": "integration",
         "scope": {"event_types": ["confirmed", "picked", "stock_shortage"]},
         "expires_at": "2027-06-30T00:00:00Z"},
        {"name": "sf-express", "role": "integration",
         "scope": {"event_types": ["shipped", "tracking_scan", "delivered",
                                   "delivery_exception"], "carriers": ["SF Express"]}}]})

    name: Name
    role: Role
    team: Name | None = Field(default=None, description="whose in-app inbox the key reads "
                                                        "(default: the role's name)")
    scope: KeyScope | None = Field(default=None, description="integration keys only")
    expires_at: AwareDatetime | None = Field(default=None, description="in the future; "
                                                                       "null: never")


class KeyView(BaseModel):
    id: int
    name: str
    role: str
    team: str | None
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    scope: KeyScope
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    state: KeyState


class KeyCreated(KeyView):
    key: str = Field(description="the key itself: shown this once, stored only as a hash")


class KeyList(BaseModel):
    items: list[KeyView]
