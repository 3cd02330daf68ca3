"""Overwriting personal values in place with the redaction marker: the pure part of redacting
mutable rows (db/personal/redact.py). Paths as in db/personal/fields.py (`[]` steps into every
element of a list)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from db.personal.fields import REDACTED


def _overwrite(node: Any, steps: list[str], marker: Any) -> int:
    if not steps:
        return 0
    step, rest = steps[0], steps[1:]
    if step.endswith("[]"):
        items = node.get(step[:-2]) if isinstance(node, dict) else None
        if not isinstance(items, list):
            return 0
        if not rest:  # a list of texts: each element
            count = sum(1 for v in items if v is not None and v != marker)
            items[:] = [marker if v is not None else None for v in items]
            return count
        return sum(_overwrite(item, rest, marker) for item in items)
    if not isinstance(node, dict) or node.get(step) is None:
        return 0
    if rest:
        return _overwrite(node[step], rest, marker)
    if node[step] == marker:
        return 0
    node[step] = marker
    return 1


def redact_columns(row: Mapping[str, Any], paths: tuple[str, ...],
                   marker: Any = REDACTED) -> tuple[dict[str, Any], int]:
    """The columns of `row` that change when every value at `paths` is overwritten with
    `marker` (copies), and how many values were overwritten. A value already the marker, or
    null, is left: redacting twice changes nothing."""
    changed: dict[str, Any] = {}
    count = 0
    for path in paths:
        steps = path.split(".")
        column = steps[0].removesuffix("[]")
        if row.get(column) is None:
            continue
        holder = {column: changed[column] if column in changed else copy.deepcopy(row[column])}
        n = _overwrite(holder, [steps[0], *steps[1:]], marker)
        if n:
            changed[column] = holder[column]
            count += n
    return changed, count
