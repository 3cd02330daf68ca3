"""What every HTTP body of API v1 shares: bounded id and text fields, times in UTC, a strict base.

Kept apart from workflow payload types, which are history; each domain's bodies are in its package
(api/orders/schemas.py, api/claims/schemas.py, ...)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic_core import PydanticCustomError

from api.edge import text
from api.edge.text import contains_nul

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
EventId = Annotated[str, Field(min_length=1, max_length=128,
                               pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Sku = Annotated[str, Field(min_length=1, max_length=64)]


# No time in a request is earlier (issue 14 §7): an event dated 0001-01-01 once made an order
# on time and skipped its survey.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def instant(value: datetime) -> datetime:
    """A request's time in UTC; before 2000 is refused (error type `occurred_too_early`).

    A time UTC cannot hold (0001-01-01 east of Greenwich, 9999-12-31 west of it) is a
    validation error too, not the OverflowError pydantic would let through (a 500)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        if value.year >= EARLIEST.year:
            raise ValueError("the time is out of range") from None
        utc = datetime.min.replace(tzinfo=UTC)  # before any UTC time: too early, below
    if utc < EARLIEST:
        raise PydanticCustomError("occurred_too_early", "times before {earliest} are not "
                                  "accepted", {"earliest": EARLIEST.isoformat()})
    return utc


def instant_or_none(value: datetime | None) -> datetime | None:
    return instant(value) if value is not None else None


class Strict(BaseModel):
    """A request body: unknown fields and text the database cannot store are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError(text.MESSAGE)
        return value
