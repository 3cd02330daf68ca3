"""What the order's parts (exceptions.py, follow_up.py, breaches.py) may ask of OrderWorkflow.

A typed seam instead of attributes reached through: mypy checks that OrderWorkflow is an
OrderContext where it hands itself to its parts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from workflows.claim.types import ClaimInput
from workflows.complaint.types import ComplaintInput
from workflows.ids import SYSTEM_ACTOR, SYSTEM_SOURCE
from workflows.order.types import OrderState, Stage

# A child workflow to start once the change is settled: a claim or a complaint.
ChildInput = ClaimInput | ComplaintInput


class OrderContext(Protocol):
    @property
    def order(self) -> OrderState:
        """The order's state (`state` is the workflow's query)."""
        ...

    @property
    def v2(self) -> bool:
        """EXCEPTIONS_PATCH: claims, complaints, shortages and survey reminders exist."""
        ...

    def record(self, event_id: str, type_: str, occurred_at: datetime, data: dict[str, Any],
               actor: str = SYSTEM_ACTOR, source: str = SYSTEM_SOURCE,
               body_hash: str | None = None) -> None:
        """Add a timeline entry (projected with the next change)."""
        ...

    def touch(self) -> None:
        """The state changed without a timeline entry: project it anyway."""
        ...

    def enter(self, stage: Stage, at: datetime) -> None: ...

    def after_track(self, finished: Stage, at: datetime) -> None:
        """One post-delivery track (receipt, follow-up) ended; the order closes once both have."""
        ...

    def start_child(self, inp: ChildInput) -> None:
        """Queue a claim or complaint to start once the change is settled."""
        ...
