"""The claims and complaints lists' filters, read from the page's address: state, step,
overdue now, customer, tier and assignee. A value the list does not offer (a hand-edited
address) is dropped, so the list shows everything rather than an error."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from workflows.order.types import Tier

STATES = ("open", "closed")
TIERS = tuple(t.value for t in Tier)
_ID_MAX = 64
_ASSIGNEE_MAX = 120


@dataclass(frozen=True)
class CaseFilters:
    state: str = ""
    step: str = ""
    overdue: bool = False
    customer: str = ""
    tier: str = ""
    assignee: str = ""

    def query(self) -> str:
        """The filters as an address's query (for the next page's link)."""
        return urlencode({k: ("1" if v is True else v) for k, v in asdict(self).items()
                          if v not in ("", False)})

    @property
    def any(self) -> bool:
        return bool(self.query())


def _one_of(value: str | None, allowed: Iterable[str]) -> str:
    return value if value in set(allowed) else ""


def _text(value: str | None, limit: int) -> str:
    value = (value or "").strip()
    return value if len(value) <= limit else ""


def parse(params: QueryParams, steps: Iterable[str]) -> CaseFilters:
    """The filters in `params`; `steps` are the case kind's step values."""
    return CaseFilters(
        state=_one_of(params.get("state"), STATES),
        step=_one_of(params.get("step"), steps),
        overdue=params.get("overdue") in ("1", "on", "true"),
        customer=_text(params.get("customer"), _ID_MAX),
        tier=_one_of(params.get("tier"), TIERS),
        assignee=_text(params.get("assignee"), _ASSIGNEE_MAX))


def cursor_of(params: QueryParams) -> str | None:
    value = params.get("cursor")
    return value if value and len(value) <= 200 else None
