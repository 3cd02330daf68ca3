"""A refused policy in an admin's words: `<where>: policy '<name>': key '<path>': <what>`.

pydantic says what is wrong with a body; this names the key by its dotted path (levels and list
items counted from 1, as the ladder's levels are) and says what is allowed there.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from policies.schema import PolicyBody, shown

# A body with many faults gets this many named (and a count of the rest).
MAX_NAMED = 5


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file, the policy and the key."""


def explain(exc: ValidationError, where: str) -> PolicyError:
    """The PolicyError for pydantic's refusal of a body; `where` names file and policy."""
    # An unknown key first: a misspelt one explains the "missing" that comes with it.
    errors = sorted(exc.errors(include_url=False),
                    key=lambda e: e["type"] not in ("extra_forbidden", "invalid_key"))
    faults = [_fault(error) for error in errors]
    named = "; ".join(faults[:MAX_NAMED])
    more = f" (and {len(faults) - MAX_NAMED} more)" if len(faults) > MAX_NAMED else ""
    return PolicyError(f"{where}: {named}{more}")


def _fault(error: ErrorDetails) -> str:
    loc = list(error["loc"]) + list((error.get("ctx") or {}).get("at", ()))
    if error["type"] == "invalid_key":  # YAML's `1:` or `null:`: a key, though not a string
        loc[-1] = str(loc[-1])
    what = _what(error, loc)
    if not loc:
        return f"expected a mapping of keys to durations: {what}"
    return f"key {_path(loc)!r}: {what}"


def _path(loc: list[str | int]) -> str:
    path = ""
    for part in loc:
        path += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if path else part
    return path


def _what(error: ErrorDetails, loc: list[str | int]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "policy_rule":
        return str(ctx["message"])
    if kind == "missing":
        return "missing"
    if kind in ("extra_forbidden", "invalid_key"):
        model = _model_at(loc[:-1])
        allowed = f" (allowed: {', '.join(model.model_fields)})" if model else ""
        return f"unknown key{allowed}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "expected a mapping"
    if kind == "list_type":
        return "expected a list"
    if kind == "too_short":
        return "expected a non-empty list"
    if kind == "int_type":
        return f"expected a whole number, not {shown(value)}"
    if kind == "string_type":
        return f"expected text, not {shown(value)}"
    allowed = _allowed(_field_at(loc), ctx)
    return f"{shown(value)} is not allowed here ({allowed or error['msg']})"


def _allowed(field: FieldInfo | None, ctx: dict[str, Any]) -> str:
    """What the field takes: its bounds (both, where only one was broken), else its
    description, else pydantic's own word for the constraint."""
    metadata = field.metadata if field else []
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None or high is not None:
        return f"at least {low}" if low is not None else f"at most {high}"
    if field and field.description:
        return field.description
    return ", ".join(f"{k} {v}" for k, v in ctx.items())


def _field_at(loc: list[str | int]) -> FieldInfo | None:
    model = _model_at(loc[:-1])
    return model.model_fields.get(str(loc[-1])) if model and loc else None


def _model_at(loc: list[str | int]) -> type[BaseModel] | None:
    """The model whose mapping `loc` points at, found through the fields' annotations."""
    kind: Any = PolicyBody
    for part in loc:
        if _is_model(kind) and isinstance(part, str):
            field = kind.model_fields.get(part)
            if field is None:
                return None
            kind = field.annotation
        kind = _unwrap(kind)
        if isinstance(part, int) and get_origin(kind) is list:
            kind = _unwrap(get_args(kind)[0])
    return kind if _is_model(kind) else None


def _is_model(kind: Any) -> bool:
    # `list[X]` passes isinstance(..., type) but not issubclass: look at its origin first.
    return get_origin(kind) is None and isinstance(kind, type) and issubclass(kind, BaseModel)


def _unwrap(kind: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` as X."""
    while get_origin(kind) in (Annotated, Union, types.UnionType):
        kind = next(a for a in get_args(kind) if a is not type(None))
    return kind
