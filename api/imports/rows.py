"""From a sheet's rows to the API's order bodies: rows grouped into orders by `order_id`, each
order's body built from its cells and checked by the API's own model (OrderCreate).

A row's problem is a `Refusal` with the API's error code (`validation_error` for the model's
rules) and the column and row it points at, so the report can say it in either language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from api.imports.columns import BY_KEY, LINE_COLUMNS, ORDER_COLUMNS, TIER_WORDS, column_of
from api.imports.parse import Row
from api.orders.schemas import OrderCreate


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str  # English, as the API words it
    details: dict[str, Any] = field(default_factory=dict)  # column, row, type, limit ...


@dataclass
class Draft:
    """One order of the file: its rows (the first one names it in the report)."""

    order_id: str
    rows: list[Row]

    @property
    def first_row(self) -> int:
        return self.rows[0].number


def group(rows: list[Row]) -> list[Draft]:
    """Rows grouped into orders by `order_id`, in the order each id first appears. A row
    without an order id is an order of its own (refused for the missing id)."""
    drafts: dict[str, Draft] = {}
    alone: list[tuple[int, Draft]] = []
    order: list[tuple[int, str]] = []
    for row in rows:
        order_id = row.cells.get("order_id", "")
        if not order_id:
            alone.append((row.number, Draft("", [row])))
            continue
        if order_id not in drafts:
            drafts[order_id] = Draft(order_id, [])
            order.append((row.number, order_id))
        drafts[order_id].rows.append(row)
    named = [(n, drafts[oid]) for n, oid in order]
    return [d for _, d in sorted(named + alone, key=lambda pair: pair[0])]


def _time(text: str, zone: ZoneInfo) -> str:
    """A time without a zone (what a spreadsheet holds) is read in the business zone; with a
    zone it is passed on as written; unreadable text goes on for the model to refuse."""
    try:
        value = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return text
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.isoformat()


def body_of(draft: Draft, zone: ZoneInfo) -> tuple[dict[str, Any], Refusal | None]:
    """The order body the draft's rows describe; a Refusal if their order fields disagree."""
    values: dict[str, tuple[str, int]] = {}
    for row in draft.rows:
        for column in ORDER_COLUMNS:
            text = row.cells.get(column.key)
            if text is None:
                continue
            seen = values.get(column.key)
            if seen is None:
                values[column.key] = (text, row.number)
            elif seen[0] != text:
                return {}, Refusal(
                    "rows_disagree",
                    f"column {column.key} (row {row.number}) differs from row {seen[1]} of the "
                    "same order", {"column": column.key, "row": row.number, "first": seen[1]})
    body: dict[str, Any] = {"customer": {}, "destination": {}}
    for key, (text, _) in values.items():
        column = BY_KEY[key]
        value: Any = text
        if column.time:
            value = _time(text, zone)
        elif key == "customer_tier":
            value = TIER_WORDS.get(text, text)
        target = body
        for part in column.path[:-1]:
            target = target[part]
        target[column.path[-1]] = value
    body["lines"] = [{c.path[0]: row.cells[c.key] for c in LINE_COLUMNS if c.key in row.cells}
                     for row in draft.rows]
    return body, None


def checked(draft: Draft, zone: ZoneInfo) -> OrderCreate | Refusal:
    """The draft as the API's order, or the first rule it breaks."""
    body, refusal = body_of(draft, zone)
    if refusal is not None:
        return refusal
    try:
        return OrderCreate.model_validate(body)
    except ValidationError as exc:
        return refusal_of(exc, draft)


def refusal_of(exc: ValidationError, draft: Draft) -> Refusal:
    """The model's first error, pointed at its column and row."""
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = tuple(error["loc"])
    column = column_of(loc) if loc else "promised_delivery_by"
    row = draft.first_row
    if len(loc) > 1 and loc[0] == "lines" and isinstance(loc[1], int) \
            and loc[1] < len(draft.rows):
        row = draft.rows[loc[1]].number
    ctx = error.get("ctx") or {}
    limit = ctx.get("max_length", ctx.get("min_length", ctx.get("ge", ctx.get("le",
                    ctx.get("gt")))))
    where = f"column {column} (row {row})" if column else f"row {row}"
    details: dict[str, Any] = {"column": column, "row": row, "type": error["type"]}
    if limit is not None:
        details["limit"] = str(limit)
    if error["type"] == "value_error" and loc == ("lines",):
        details["type"] = "duplicate_sku"
    return Refusal("validation_error", f"{where}: {error['msg']}", details)
