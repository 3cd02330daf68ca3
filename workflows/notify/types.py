"""Payload of the notifier activity (standard library only, safe to import in workflows).

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliverInput:
    """Deliver one outbox row (an id returned by db.notifications.enqueue)."""

    outbox_id: str
    # True from a DeliveryWorkflow (the one owner of a row's attempts). False: a workflow
    # started before deliveries were workflows of their own; the notifier then does nothing,
    # the row's DeliveryWorkflow (or the sweep) delivers it.
    delivery_workflow: bool = False


@dataclass
class DeliveryInput:
    """Deliver one outbox row, retrying for a day (workflows.delivery.DeliveryWorkflow)."""

    outbox_id: str


@dataclass
class SweepInput:
    """Re-drive outbox rows no delivery is looking after (workflows.delivery.OutboxSweepWorkflow).

    Attributes:
        grace_seconds: how long a row may sit pending past its due retry (or claimed past its
            attempt's deadline) before it counts as stranded.
        limit: at most this many rows per sweep, oldest first (the next sweep takes the rest).
    """

    grace_seconds: int = 300
    limit: int = 500


@dataclass
class SweepResult:
    stranded: int = 0
    started: int = 0
