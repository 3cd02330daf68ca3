"""What the order sends its read model at each change: only what changed (lean histories).

A whole OrderState per projection made history bytes grow with the square of the tracking
scans (every scan so far, again at every event) and cost the worker most of its time decoding
it. The tracker remembers what the last write carried and sends the fields whose value differs,
the scans not yet written, and the deadline dates the activity can no longer work out (it
never sees the whole feed). A run's first change carries every field, so a run that continued
as new, or a worker that rebuilt the workflow from its history, starts from a complete write.

It lives in workflow memory and changes only as the workflow does: replay rebuilds it exactly.
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import Any

from workflows.order.deadlines import latest_eta, receipt_due_at
from workflows.order.types import OrderState, ProjectionChange, TimelineEntry

# Sent by value when they change; scans go one by one and `seq` is the change's own number.
TRACKED = tuple(f.name for f in fields(OrderState) if f.name not in ("scans", "seq"))


class ChangeTracker:
    def __init__(self) -> None:
        self._sent: dict[str, Any] = {}  # field → the value the last write carried (a copy)
        self._sent_scans: set[str] = set()  # event ids of the scans already written

    def change(self, state: OrderState, entries: list[TimelineEntry]) -> ProjectionChange:
        """The next write: call once per projection, after `state.seq` was bumped."""
        changed: dict[str, Any] = {}
        for name in TRACKED:
            value = getattr(state, name)
            if name not in self._sent or self._sent[name] != value:
                # A copy: the state goes on changing while the payload waits to be encoded.
                changed[name] = self._sent[name] = copy.deepcopy(value)
        scans = [copy.copy(scan) for scan in state.scans if scan.event_id not in self._sent_scans]
        self._sent_scans.update(scan.event_id for scan in scans)
        return ProjectionChange(
            order_id=state.order_id, seq=state.seq, changed=changed, scans=scans,
            entries=entries, latest_eta=latest_eta(state), receipt_due_at=receipt_due_at(state))
