"""The names Waybill gives: every workflow id, and its own name on the timelines it writes.

A workflow id is derived from its business key, so a second start of the same order, claim or
complaint is refused by Temporal (reject-duplicate) and anyone holding the key can find the
workflow without a lookup. Committed histories hold these ids: they never change.
"""

from __future__ import annotations

# Who wrote a timeline entry Waybill made itself (a breach, a closure, a reminder).
SYSTEM_ACTOR = "waybill"
SYSTEM_SOURCE = "system"


def order_workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


def claim_workflow_id(claim_id: str) -> str:
    return f"claim-{claim_id}"


def complaint_workflow_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


def escalation_workflow_id(subject_id: str, cause: str) -> str:
    """The escalation (its workflow id is its id) of an order, claim or complaint (`subject_id`)
    for one breach or late step (`cause`): the same breach never opens two ladders."""
    return f"esc-{subject_id}-{cause}"


def delivery_workflow_id(outbox_id: str) -> str:
    return f"delivery-{outbox_id}"


# Issue 19 §4: one workflow per uploaded import file ("order-import-..." could be an order's).
def import_workflow_id(import_id: str) -> str:
    return f"import-{import_id}"
