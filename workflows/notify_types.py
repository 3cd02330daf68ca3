"""Payload of the notifier activity (standard library only, safe to import in workflows).

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliverInput:
    """Deliver one outbox row (an id returned by db.notifications.enqueue)."""

    outbox_id: str
