"""What a case page's action forms share: who acts (the viewer, as the API's services take a
caller), the form's own event id, and a refusal turned into a sentence on the form it came from.

Each action posts through the same service the API calls (api/claims/service.py,
api/complaints/service.py), with the viewer's key name as actor and "console" as source. A
refusal the viewer can fix re-renders the case page (4xx) with the sentence at the top of the
form that failed and what they typed kept; success is a 303 to the case page with `?done=`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from api.deps import Principal
from api.errors import ApiError
from console.i18n import Viewer, catalogue
from console.session import ConsoleUser

SOURCE = "console"
MINOR_PER_MAJOR = 100  # CNY and the other currencies the policies name have 2 decimals
TEXT_MAX = 2000


@dataclass
class Failed:
    """The form that failed: its action, the sentence to show, what was typed."""

    form: str
    status: int
    error: str
    values: Mapping[str, str] = field(default_factory=dict)


def principal(user: ConsoleUser) -> Principal:
    """The viewer as the services' caller: their key's name and role."""
    return Principal(name=user.name, role=user.role, key_id=user.key_id)


def money_minor(text: str) -> int:
    """"300", "300.5" or "300.50" (major units) in minor units; ValueError otherwise."""
    try:
        amount = Decimal(text.strip().replace(",", ""))
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    minor = amount * MINOR_PER_MAJOR
    if not amount.is_finite() or minor != minor.to_integral_value() or minor < 0:
        raise ValueError(text)
    return int(minor)


def money(viewer: Viewer, minor: int | None, currency: str | None) -> str:
    """Minor units as the viewer reads an amount: "300.00 CNY"."""
    if minor is None:
        return "-"
    return viewer.t("cases.money", amount=f"{minor / MINOR_PER_MAJOR:,.2f}",
                    currency=currency or "")


def local_time(viewer: Viewer, text: str) -> datetime:
    """A `datetime-local` input (the viewer's zone) as an aware UTC time; ValueError if bad."""
    naive = datetime.fromisoformat(text.strip())
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=ZoneInfo(viewer.zone)).astimezone(UTC)


def optional(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


class _Fields(dict[str, str]):
    """A sentence's fields; one the refusal lacks reads "-"."""

    def __missing__(self, key: str) -> str:
        return "-"


def listed(viewer: Viewer, words: list[str]) -> str:
    return ("、" if viewer.locale.startswith("zh") else ", ").join(words)


def refused(viewer: Viewer, area: str, form: str, exc: ApiError,
            values: Mapping[str, str]) -> Failed:
    """A service's refusal as the sentence `<area>.error.<code>`, or the area's general refusal
    for a code without one. A sentence names only worded fields: `cap` (an amount), `missing`
    (document kinds), `awaiting` (a step), never a code."""
    details = exc.details or {}
    fields = _Fields()
    if details.get("cap_minor") is not None:
        fields["cap"] = money(viewer, int(details["cap_minor"]), str(details.get("currency")))
    if details.get("missing_documents"):
        fields["missing"] = listed(viewer, [viewer.code("claims.doc_kind", k)
                                            for k in details["missing_documents"]])
    if details.get("awaiting"):
        fields["awaiting"] = viewer.code(f"{area}.todo", str(details["awaiting"]))
    words = catalogue(viewer.locale)
    key = f"{area}.error.{exc.code}"
    if exc.code == "invalid_transition":
        if details.get("department"):  # routed again to where it already is
            key += "_same_department"
            fields["department"] = viewer.code("complaints.department", details["department"])
        elif not details.get("awaiting"):  # the case moved on since the page was drawn
            key += "_now"
    if key not in words:
        key = f"{area}.error.rejected"
    status = exc.status if 400 <= exc.status < 500 else 409
    return Failed(form, status, words[key].format_map(fields), values)


def invalid(viewer: Viewer, area: str, form: str, exc: ValidationError | ValueError,
            values: Mapping[str, str], fields: Mapping[str, str]) -> Failed:
    """A form the API's body would refuse: name the fields in the viewer's words.

    `fields` maps the body's field names (the last part of a pydantic error's location) to
    the form's label keys."""
    names: list[str] = []
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            for part in reversed(err["loc"]):
                if isinstance(part, str) and part in fields:
                    label = viewer.t(fields[part])
                    if label not in names:
                        names.append(label)
                    break
    named = listed(viewer, names) if names else viewer.t("cases.error.some_fields")
    return Failed(form, 422, viewer.t(f"{area}.error.invalid", fields=named), values)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()
