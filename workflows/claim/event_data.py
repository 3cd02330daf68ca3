"""A claim event's `data`, typed: one frozen dataclass per ClaimEventType, parsed once where
the event enters the workflow (its validator, and the handler that applies it).

The wire format stays `ClaimEventInput.data: dict` (committed histories hold it); the API's
bodies (api/claims/schemas.py) validate it first. Parsing raises KeyError, ValueError or
TypeError on a malformed event, which the validator refuses as `invalid_event`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, assert_never

from workflows.claim.types import Basis, ClaimEventType, DocumentKind, Liability


@dataclass(frozen=True)
class ContactData:
    channel: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DocumentData:
    kind: DocumentKind
    sha256: str
    filename: str | None = None
    content_type: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class LiabilityData:
    liability: Liability
    note: str | None = None


@dataclass(frozen=True)
class Override:
    reason: str | None = None


@dataclass(frozen=True)
class CompensationData:
    amount_minor: int
    currency: str
    basis: Basis  # the basis the caller sent with it (none, some or all fields)
    override: Override | None = None
    reason: str | None = None
    note: str | None = None

    @property
    def change_reason(self) -> str | None:
        """Why a supervisor changed the basis along with the amount."""
        return self.reason or (self.override.reason if self.override else None) or self.note


@dataclass(frozen=True)
class PayoutData:
    voucher: str
    note: str | None = None


@dataclass(frozen=True)
class WithdrawnData:
    reason: str | None = None


@dataclass(frozen=True)
class ClaimNoteData:
    text: str | None = None


@dataclass(frozen=True)
class BasisSetData:
    basis: Basis
    reason: str | None = None
    note: str | None = None

    @property
    def change_reason(self) -> str | None:
        return self.reason or self.note


ClaimEventData = (ContactData | DocumentData | LiabilityData | CompensationData | PayoutData
                  | WithdrawnData | ClaimNoteData | BasisSetData)


def _basis(d: Mapping[str, Any]) -> Basis:
    # As sent: a weight of 30 stays 30 (the read model shows what the caller gave).
    return Basis(weight_kg=d.get("weight_kg"), declared_value_minor=d.get("declared_value_minor"))


def parse(type_: ClaimEventType, d: Mapping[str, Any]) -> ClaimEventData:
    """`d` (an event's data) of an event of `type_`, typed."""
    match type_:
        case ClaimEventType.CUSTOMER_CONTACTED:
            return ContactData(channel=d.get("channel"), note=d.get("note"))
        case ClaimEventType.DOCUMENT_ADDED:
            return DocumentData(kind=DocumentKind(d["kind"]), sha256=d["sha256"],
                                filename=d.get("filename"), content_type=d.get("content_type"),
                                size=d.get("size"))
        case ClaimEventType.LIABILITY_DECIDED:
            return LiabilityData(liability=Liability(d["liability"]), note=d.get("note"))
        case ClaimEventType.COMPENSATION_SET:
            override = d.get("override")
            return CompensationData(
                amount_minor=int(d["amount_minor"]), currency=str(d["currency"]),
                basis=_basis(d),
                override=Override(reason=override.get("reason")) if override is not None
                else None,
                reason=d.get("reason"), note=d.get("note"))
        case ClaimEventType.PAYOUT_ISSUED:
            return PayoutData(voucher=d["voucher"], note=d.get("note"))
        case ClaimEventType.WITHDRAWN:
            return WithdrawnData(reason=d.get("reason"))
        case ClaimEventType.NOTE:
            return ClaimNoteData(text=d.get("text"))
        case ClaimEventType.BASIS_SET:
            return BasisSetData(basis=_basis(d), reason=d.get("reason"), note=d.get("note"))
        case _:
            assert_never(type_)
