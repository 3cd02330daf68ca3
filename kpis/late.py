"""Late events: which figures of a stored report a recomputation at the same `as_of` changes.

Both reports are flattened to `path -> value`; list items that carry a `key` (groups) or a
`label` (problems, suggestions) are addressed by it, so a new customer shows as new figures
rather than shifting every later group. `changes` lists every path (machine-readable);
`figures` lists what a reader counts as one figure: a rate or a score summary once, not its
numerator, denominator, mean... each again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Metadata, not figures: the recomputation is taken now, at the stored as_of.
_IGNORED = {"period.as_of"}


def flatten(value: Any, prefix: str = "",
            whole: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
    """`path -> value` of every leaf, and of every dict `whole` says to keep in one piece."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and not (whole and whole(value)):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k), whole))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            name = i
            if isinstance(item, dict) and ("key" in item or "label" in item):
                name = item.get("key", item.get("label"))
                item = {k: v for k, v in item.items() if k not in ("key", "label")}
            out.update(flatten(item, f"{prefix}[{name}]", whole))
    else:
        out[prefix] = value
    return out


def _one_figure(value: dict[str, Any]) -> bool:
    # Rate (numerator, denominator, rate) and Scores (count, sum, mean, distribution): the
    # parts are derived together, so one late answer changes them together.
    return {"numerator", "denominator"} <= value.keys() or {"count", "mean"} <= value.keys()


def _order(path: str) -> tuple[bool, str]:
    return (not path.startswith("total."), path)  # the totals first: what a reader looks at


def _diff(before: dict[str, Any], after: dict[str, Any],
          paths: list[str]) -> list[dict[str, Any]]:
    return [{"figure": path, "reported": before.get(path), "now": after.get(path)}
            for path in paths if path not in _IGNORED and before.get(path) != after.get(path)]


def changes(stored: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """Every flattened value that differs, totals first, then by path:
    `{"figure", "reported", "now"}`; a value missing on one side is None there."""
    before, after = flatten(stored), flatten(now)
    return _diff(before, after, sorted(set(before) | set(after), key=_order))


def figures(stored: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures that differ, in the report's order, as `changes` gives them, except that a
    rate or a score summary is one figure whose values are the whole objects."""
    before, after = flatten(stored, whole=_one_figure), flatten(now, whole=_one_figure)
    return _diff(before, after, [*after, *(p for p in before if p not in after)])
