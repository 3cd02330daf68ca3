"""The compensation standard of a claim: the cap a basis gives, and who may set the basis.

`cap_per_kg_minor` per kg when a weight is known, else the declared value; 0 when the customer
or force majeure is liable. Only a supervisor (or admin) goes above it, or sets or changes the
basis (weight, declared value), which comes from the order as created or from a supervisor's
recorded decision, never from the operator who sets the amount.
"""

from __future__ import annotations

from workflows.claim.types import COMPENSATING, Basis, Liability
from workflows.policy import ClaimPolicy


def compensation_cap(policy: ClaimPolicy, liability: Liability | None,
                     basis: Basis) -> tuple[int | None, str | None]:
    """(cap in minor units, what it was computed from); (None, None) without a basis."""
    if liability not in COMPENSATING:
        return 0, "not_liable"
    if basis.weight_kg is not None:
        return round(policy.cap_per_kg_minor * float(basis.weight_kg)), "weight"
    if basis.declared_value_minor is not None:
        return int(basis.declared_value_minor), "declared_value"
    return None, None


def basis_change(sent: Basis, recorded: Basis) -> Basis | None:
    """The fields `sent` names that differ from `recorded` (None: no change)."""
    weight = sent.weight_kg if sent.weight_kg != recorded.weight_kg else None
    value = sent.declared_value_minor \
        if sent.declared_value_minor != recorded.declared_value_minor else None
    return None if weight is None and value is None else Basis(weight, value)
