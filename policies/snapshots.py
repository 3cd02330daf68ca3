"""A policy as copied onto an order's row, and which policy an order takes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import TypeAdapter

from workflows.order.types import Tier
from workflows.policy import SlaPolicy

_SNAPSHOT = TypeAdapter(SlaPolicy)


def policy_name_for(requested: str | None, tier: Tier) -> list[str]:
    """Names to try, in order: the one asked for, else the tier's, else `standard`."""
    if requested is not None:
        return [requested]
    return [tier.value, Tier.STANDARD.value]


def snapshot(policy: SlaPolicy) -> dict[str, Any]:
    """The policy as plain JSON, as copied onto the order row."""
    return asdict(policy)


def from_snapshot(data: dict[str, Any]) -> SlaPolicy:
    return _SNAPSHOT.validate_python(data)
