"""The claims and complaints lists' filters, read from the page's address: state, step,
overdue now, customer, tier and assignee. A value the list does not offer (a hand-edited
address) is dropped, so the list shows everything rather than an error."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from api.errors import ApiError
from api.pagination import decode_cursor, keyset_page
from workflows.order.types import Tier

R = TypeVar("R", bound=Any)  # a claim's or complaint's row
PAGE_SIZE = 50
URGENT_MAX = 200  # open cases listed at once, the soonest due first

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
    """The filters in `params`; `steps` are the case kind's step values. A bare list (the
    nav's link) shows the open cases: what needs doing; "any" is an empty `state`."""
    return CaseFilters(
        state=_one_of(params.get("state"), STATES) if params else "open",
        step=_one_of(params.get("step"), steps),
        overdue=params.get("overdue") in ("1", "on", "true"),
        customer=_text(params.get("customer"), _ID_MAX),
        tier=_one_of(params.get("tier"), TIERS),
        assignee=_text(params.get("assignee"), _ASSIGNEE_MAX))


def page_of(fetch: Callable[[int, tuple[datetime, str] | None, bool], list[R]],
            chosen: CaseFilters, params: QueryParams) -> tuple[list[R], str | None, bool]:
    """The rows to list: open cases the soonest due first (overdue on top), at most
    URGENT_MAX of them (`True` when more were left out); otherwise newest first, a page at a
    time from the address's cursor, with the next page's cursor."""
    if chosen.state == "open":
        rows = fetch(URGENT_MAX + 1, None, True)
        return rows[:URGENT_MAX], None, len(rows) > URGENT_MAX
    cursor = cursor_of(params)
    try:
        after = decode_cursor(cursor) if cursor else None
    except ApiError:
        after = None  # a hand-edited address: the first page
    page, next_cursor = keyset_page(fetch(PAGE_SIZE + 1, after, False), PAGE_SIZE,
                                    lambda r: (r.opened_at, r.id))
    return page, next_cursor, False


def cursor_of(params: QueryParams) -> str | None:
    value = params.get("cursor")
    return value if value and len(value) <= 200 else None
