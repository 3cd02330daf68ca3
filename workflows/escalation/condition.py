"""The condition behind an escalation: which step is late, named as a code.

An escalation stays open exactly as long as its condition holds: the order, claim or complaint
that opened it clears it (the `clear` signal) when the step is done or the case ends. So an
operator's resolve on an open escalation is a waiver of a step still not done.
"""

from __future__ import annotations

from workflows.order.types import BreachKind

# Kinds whose breach id is "<step>-<n>": the step of a claim or complaint.
STEP_KINDS = (BreachKind.CLAIM_STEP_LATE.value, BreachKind.COMPLAINT_STEP_LATE.value)


def late_step(kind: str, breach_id: str) -> str:
    """The late step: a claim's or complaint's step ("customer_contacted"), else the order's
    deadline kind ("ship_late")."""
    if kind in STEP_KINDS:
        return breach_id.rsplit("-", 1)[0]
    return kind
