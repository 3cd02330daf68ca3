"""Placeholders for personal values in chained rows: splitting a row before it is inserted, and
the pure parts of revealing and checking them. No database here (db/personal/queries.py).

A placeholder is the text `$personal:<id>:<sha256>` in place of the value, at one of the
inventory's paths (db/personal/fields.py): `id` names the `personal_values` row (the SHA-256 of
[table, row key, path], cut to 32 hex digits: a retried insert of the same row names the same
value) and `sha256` is the SHA-256 of the row's random salt followed by the value's canonical
JSON. The row's content hash covers the placeholder only, so deleting the value and its salt
later leaves the audit chain verifying; while they are kept, the hash shows whether the value
was changed. A text rather than an object, so it also fits a text column (an escalation step's
comment). Only values at inventory paths are split, so a text there that looks like a
placeholder always is one.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from db.audit import canonical
from db.personal.fields import chained_paths

PREFIX = "$personal:"
_PATTERN = re.compile(r"^\$personal:([0-9a-f]{32}):([0-9a-f]{64})$")


@dataclass(frozen=True)
class SideValue:
    """A personal value taken out of a chained row, for `personal_values`."""

    id: str
    chain: str
    table_name: str
    row_key: str
    path: str
    value: Any
    salt: str


def value_id(table: str, row_key: str, path: str) -> str:
    return canonical.sha256(canonical.dumps([table, row_key, path]))[:32]


def value_hash(salt: str, value: Any) -> str:
    return canonical.sha256(salt + canonical.dumps(value))


def placeholder(vid: str, digest: str) -> str:
    return f"{PREFIX}{vid}:{digest}"


def parse(value: Any) -> tuple[str, str] | None:
    """(id, hash) of a placeholder; None for any other value."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    match = _PATTERN.match(value)
    return (match.group(1), match.group(2)) if match else None


def _steps(path: str) -> list[str]:
    return path.split(".")


def get(row: Mapping[str, Any], path: str) -> Any:
    """The value at a dict-only `path` of `row`; None if any step is missing."""
    node: Any = row
    for step in _steps(path):
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def _set(row: dict[str, Any], path: str, value: Any) -> None:
    steps = _steps(path)
    node = row
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value


def personal_at(table: str, row: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(path, value) of each personal value stored in `row` (a placeholder or inline), null
    ones left out."""
    for path in chained_paths(table, row):
        value = get(row, path)
        if value is not None:
            yield path, value


def split(chain: str, table: str, rows: list[dict[str, Any]]
          ) -> tuple[list[dict[str, Any]], list[SideValue]]:
    """`rows` with every personal value replaced by its placeholder (copies: the caller's rows
    are left as they are), and the values taken out. A value already a placeholder stays."""
    out: list[dict[str, Any]] = []
    taken: list[SideValue] = []
    for row in rows:
        found = [(p, v) for p, v in personal_at(table, row) if parse(v) is None]
        if not found:
            out.append(row)
            continue
        row = {**row, **{p.split(".")[0]: copy.deepcopy(row[p.split(".")[0]]) for p, _ in found}}
        key = canonical.row_key(table, row)
        for path, value in found:
            salt = secrets.token_hex(16)
            vid = value_id(table, key, path)
            _set(row, path, placeholder(vid, value_hash(salt, value)))
            taken.append(SideValue(vid, chain, table, key, path, value, salt))
        out.append(row)
    return out, taken


def placeholders_in(table: str, row: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(path, value id, hash) of each placeholder in a stored row."""
    for path, value in personal_at(table, row):
        parsed = parse(value)
        if parsed is not None:
            yield path, parsed[0], parsed[1]


def inline_count(table: str, row: Mapping[str, Any]) -> int:
    """How many personal values `row` holds inline (stored before placeholders existed)."""
    return sum(1 for _, value in personal_at(table, row) if parse(value) is None)


def revealed(table: str, row: Mapping[str, Any], values: Mapping[str, Any],
             marker: Any) -> dict[str, dict[str, Any]] | None:
    """The JSON or text columns of `row` to show, with each placeholder replaced by its value
    from `values` (value id -> value; an id missing there is redacted and reads as `marker`);
    None if the row has no placeholder. Only the changed columns are returned, as copies."""
    found = list(placeholders_in(table, row))
    if not found:
        return None
    columns = {p.split(".")[0] for p, _, _ in found}
    out: dict[str, Any] = {col: copy.deepcopy(row[col]) for col in columns}
    for path, vid, _ in found:
        shown = values.get(vid, marker)
        if "." in path:
            _set(out, path, shown)
        else:
            out[path] = shown
    return out
