"""The timeline's `kind` filter: repeated or comma-separated, strict, refused with a code."""

from __future__ import annotations

import re

import pytest

from api.errors import ApiError
from api.orders.story import KIND_PATTERN, KIND_VALUE_MAX, parse_kinds
from db.orders.story import ALL_KINDS, StoryKind


def test_repeated_and_comma_separated_kinds() -> None:
    assert parse_kinds([]) == ALL_KINDS
    assert parse_kinds(["order,claim", "escalation"]) == {
        StoryKind.ORDER, StoryKind.CLAIM, StoryKind.ESCALATION}
    assert parse_kinds(["notification"]) == {StoryKind.NOTIFICATION}


@pytest.mark.parametrize("value", ["gossip", "order,", "", " order", "Order", "order,,claim"])
def test_anything_but_known_kinds_is_refused_with_a_code(value: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_kinds([value])
    assert (refused.value.status, refused.value.code) == (422, "unknown_timeline_kind")
    assert refused.value.details["allowed"] == [k.value for k in StoryKind]
    assert not re.match(KIND_PATTERN, value)  # the document says the same


def test_a_value_is_bounded() -> None:
    with pytest.raises(ApiError) as refused:
        parse_kinds([",".join(["order"] * 40)])
    assert refused.value.code == "timeline_kind_too_long"
    assert len(",".join(k.value for k in StoryKind)) <= KIND_VALUE_MAX
