"""What the order sends its read model at each change: only what changed (lean histories).

A whole OrderState per projection made history bytes grow with the square of the tracking
scans (every scan so far, again at every event) and cost the worker most of its time decoding
it. The tracker remembers what the last write carried and sends the fields whose value differs,
the scans not yet written, and the deadline dates the activity can no longer work out (it
never sees the whole feed). A run's first change carries every field, so a run that continued
as new, or a worker that rebuilt the workflow from its history, starts from a complete write;
only an order whose opening state the API stored starts from that (`sent`). A dict in MERGED
goes as its changed keys: `stage_times` would otherwise repeat every earlier stage's time.

It lives in workflow memory and changes only as the workflow does: replay rebuilds it exactly.
"""

from __future__ import annotations

import copy
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

from workflows.order.deadlines import latest_eta, receipt_due_at
from workflows.order.types import MERGED, TRACKED, OrderState, ProjectionChange, TimelineEntry


def lean(value: Any) -> Any:
    """`value` with its dataclasses as dicts of the fields that differ from their defaults: a
    change's fields travel as plain JSON (typed `Any`), which the converter would otherwise
    write whole, nulls and all; the activity's schema fills the defaults back in."""
    if is_dataclass(value) and not isinstance(value, type):
        kept = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if f.default is not MISSING and item == f.default:
                continue
            if f.default_factory is not MISSING and item == f.default_factory():
                continue
            kept[f.name] = lean(item)
        return kept
    if isinstance(value, list | tuple):
        return [lean(item) for item in value]
    if isinstance(value, dict):
        return {key: lean(item) for key, item in value.items()}
    return value


class ChangeTracker:
    def __init__(self, sent: OrderState | None = None) -> None:
        # field → the value the last write carried (a copy); `sent`: what the read model holds
        self._sent: dict[str, Any] = (
            {} if sent is None else {name: copy.deepcopy(getattr(sent, name)) for name in TRACKED})
        self._sent_scans: set[str] = set()  # event ids of the scans already written

    def change(self, state: OrderState, entries: list[TimelineEntry]) -> ProjectionChange:
        """The next write: call once per projection, after `state.seq` was bumped."""
        changed: dict[str, Any] = {}
        for name in TRACKED:
            value = getattr(state, name)
            sent_before = name in self._sent
            before: Any = self._sent.get(name)
            if sent_before and before == value:
                continue
            # A copy: the state goes on changing while the payload waits to be encoded.
            self._sent[name] = sent = copy.deepcopy(value)
            if sent_before and name in MERGED:  # only the keys that are new or changed
                changed[name] = {key: item for key, item in sent.items()
                                 if key not in before or before[key] != item}
            else:
                changed[name] = lean(sent)
        scans = [copy.copy(scan) for scan in state.scans if scan.event_id not in self._sent_scans]
        self._sent_scans.update(scan.event_id for scan in scans)
        return ProjectionChange(
            order_id=state.order_id, seq=state.seq, changed=changed, scans=scans,
            entries=entries, latest_eta=latest_eta(state), receipt_due_at=receipt_due_at(state))
