"""Late events: which figures of a stored report a recomputation at the same `as_of` changes.

Both reports are flattened to `path -> value`; list items that carry a `key` (groups) or a
`label` (problems, suggestions) are addressed by it, so a new customer shows as new figures
rather than shifting every later group.
"""

from __future__ import annotations

from typing import Any

# Metadata, not figures: the recomputation is taken now, at the stored as_of.
_IGNORED = {"period.as_of"}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            name = i
            if isinstance(item, dict) and ("key" in item or "label" in item):
                name = item.get("key", item.get("label"))
                item = {k: v for k, v in item.items() if k not in ("key", "label")}
            out.update(flatten(item, f"{prefix}[{name}]"))
    else:
        out[prefix] = value
    return out


def _order(path: str) -> tuple[bool, str]:
    return (not path.startswith("total."), path)  # the totals first: what a reader looks at


def changes(stored: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures that differ, totals first, then by path: `{"figure", "reported", "now"}`;
    a figure missing on one side is None there."""
    before, after = flatten(stored), flatten(now)
    return [{"figure": path, "reported": before.get(path), "now": after.get(path)}
            for path in sorted(set(before) | set(after), key=_order)
            if path not in _IGNORED and before.get(path) != after.get(path)]
