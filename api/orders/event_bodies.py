"""An order event's HTTP body derived from its data class (workflows/order/event_data.py), for
an event type that has no hand-written body in api/orders/events.py.

The workflow parses `data` into that class, so the body the API accepts is the class's own
fields, typed and bounded the API's way: text 1-2000 characters (optional text may be empty),
times timezone-aware and in UTC from 2000 on (`instant`), integers 0 to 2^53, a Literal one
of its values, a field with a default optional. A field whose type says more
(`Annotated[str, MaxLen(120)]`) keeps what it says. Any other type (lines, nested records,
score maps) needs a hand-written body: deriving one raises TypeError when the app is built.
The derived models are ordinary pydantic models, so /openapi.json describes them like the rest.
"""

from __future__ import annotations

import dataclasses
import types
from datetime import datetime
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import AwareDatetime, BaseModel, Field, create_model, field_validator

from api.schemas import Strict, instant_or_none
from workflows.order.types import EventType

MAX_TEXT = 2000
_TEXT = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
_OPTIONAL_TEXT = Annotated[str, Field(max_length=MAX_TEXT)]
_COUNT = Annotated[int, Field(ge=0, le=2**53)]


def _camel(event_type: EventType) -> str:
    return "".join(part.capitalize() for part in event_type.value.split("_"))


def _optional(hint: Any) -> tuple[Any, bool]:
    """`hint` without None, and whether None was allowed."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(hint))
    return hint, False


def _api_type(owner: type, name: str, hint: Any, required: bool) -> tuple[Any, bool]:
    """The body's type for one data field, and whether it is a time (normalized to UTC)."""
    base, nullable = _optional(hint)
    is_time = base is datetime
    if is_time:
        api: Any = AwareDatetime
    elif base is str:
        api = _TEXT if required else _OPTIONAL_TEXT
    elif base is bool or get_origin(base) in (Literal, Annotated):
        api = base
    elif base is int:
        api = _COUNT
    else:
        raise TypeError(f"{owner.__name__}.{name}: {hint!r} has no derived HTTP body; write "
                        "the event's body by hand in api/orders/events.py")
    return (api | None if nullable else api), is_time


def derived_data(event_type: EventType, data_class: type) -> type[Strict]:
    """The body of `data` for `event_type`, from the fields of its data class."""
    hints = get_type_hints(data_class, include_extras=True)
    fields: dict[str, Any] = {}
    times: list[str] = []
    for f in dataclasses.fields(data_class):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        api, is_time = _api_type(data_class, f.name, hints[f.name], required)
        default = ... if required else (None if f.default is dataclasses.MISSING else f.default)
        fields[f.name] = (api, default)
        if is_time:
            times.append(f.name)
    validators = {"_times": field_validator(*times)(instant_or_none)} if times else {}
    model: type[Strict] = create_model(
        f"{_camel(event_type)}Data", __base__=Strict, __validators__=validators,
        __module__=__name__, **fields)
    model.__doc__ = f"`data` of a {event_type.value} event (its fields in the workflow's record)."
    return model


def derived_event(event_type: EventType, data_class: type,
                  base: type[BaseModel]) -> type[BaseModel]:
    """The whole body of an event of `event_type` (`base` holds event_id and occurred_at)."""
    data = derived_data(event_type, data_class)
    literal: Any = Literal
    model: type[BaseModel] = create_model(
        f"{_camel(event_type)}Event", __base__=base, __module__=__name__,
        type=(literal[event_type.value], ...), data=(data, ...))
    return model
