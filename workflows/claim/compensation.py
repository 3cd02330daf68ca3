"""The compensation standard of a claim: the cap a basis gives, and who may set the basis.

`cap_per_kg_minor` per kg when a weight is known, else the declared value; 0 when the customer
or force majeure is liable. Only a supervisor (or admin) goes above it, or sets or changes the
basis (weight, declared value), which comes from the order as created or from a supervisor's
recorded decision, never from the operator who sets the amount.
"""

from __future__ import annotations

from dataclasses import asdict

from workflows.claim.event_data import CompensationData
from workflows.claim.types import (
    COMPENSATING,
    OVERRIDE_ROLES,
    Basis,
    ClaimEventInput,
    ClaimStatus,
    Liability,
)
from workflows.policy import ClaimPolicy
from workflows.rejections import reject


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


def recorded_basis(s: ClaimStatus) -> Basis:
    """The basis on record: the order's as created, or a supervisor's since."""
    return Basis(weight_kg=s.weight_kg, declared_value_minor=s.declared_value_minor)


def check_basis_change(s: ClaimStatus, inp: ClaimEventInput, sent: Basis,
                       always: bool = False) -> None:
    """Only a supervisor (or admin) changes the basis; `always`: nor sets it at all."""
    recorded = recorded_basis(s)
    if (basis_change(sent, recorded) or always) and inp.actor_role not in OVERRIDE_ROLES:
        raise reject("basis_change_forbidden", "only a supervisor may set or change the "
                     "compensation basis (weight_kg, declared_value_minor); send the "
                     "recorded one or none", role=inp.actor_role, recorded=asdict(recorded),
                     sent=sent.named())


def check_compensation(policy: ClaimPolicy, s: ClaimStatus, inp: ClaimEventInput,
                       data: CompensationData) -> None:
    """Refuse an amount the standard does not allow this caller (ValueError: malformed).

    Validators run only live, never on replay: the recorded basis rule holds for every claim,
    old ones too (their handler applies it behind BASIS_PATCH)."""
    amount, currency = data.amount_minor, data.currency
    if amount < 0:
        raise ValueError("amount_minor must not be negative")
    if currency != policy.currency:
        raise reject("currency_mismatch", f"compensation is paid in {policy.currency}",
                     currency=currency, expected=policy.currency)
    if data.override is not None:
        if inp.actor_role not in OVERRIDE_ROLES:
            raise reject("override_forbidden", "only a supervisor may override the "
                         "compensation standard", role=inp.actor_role)
        if not str(data.override.reason or "").strip():
            raise reject("override_reason_required", "an override must give its reason")
    check_basis_change(s, inp, data.basis)
    cap, basis = compensation_cap(policy, s.liability, data.basis.over(recorded_basis(s)))
    if cap is None:
        if amount > 0:
            raise reject("compensation_basis_required", "no weight or declared value "
                         "is recorded for this claim: a supervisor records one (basis_set) "
                         "so the amount can be checked against the compensation standard",
                         amount_minor=amount)
        return
    if amount > cap and data.override is None:
        raise reject("compensation_above_cap", "the amount is above the compensation "
                     "standard: a supervisor must override it with a reason",
                     amount_minor=amount, cap_minor=cap, cap_basis=basis,
                     currency=currency, liability=s.liability)
