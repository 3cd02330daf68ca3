"""The order's story over HTTP: the `kind` filter's rule and the items as the API shows them
(the merging itself is db/orders/story.py)."""

from __future__ import annotations

from collections.abc import Iterable

from api.errors import ApiError
from api.orders.schemas import Timeline, TimelineEntryView
from db.orders.story import ALL_KINDS, STORY_LIMIT, Story, StoryKind

# Every input is bounded: `kind` has at most 20 values (the route's Query) of at most this
# many characters (room for every kind once, comma-separated, and then some).
KIND_VALUE_MAX = 100
__all__ = ["KIND_PATTERN", "KIND_VALUE_MAX", "STORY_LIMIT", "parse_kinds", "timeline_view"]
_ONE = "(" + "|".join(kind.value for kind in StoryKind) + ")"
# One `kind` value: kinds separated by commas (the OpenAPI document's pattern for each value).
KIND_PATTERN = f"^{_ONE}(,{_ONE})*$"


def parse_kinds(values: Iterable[str]) -> frozenset[StoryKind]:
    """`?kind=` repeated or comma-separated (`kind=order,claim&kind=escalation`); none = all.

    Raises:
        ApiError: 422 `unknown_timeline_kind` naming the unknown values and the known kinds.
    """
    values = list(values)
    if any(len(value) > KIND_VALUE_MAX for value in values):
        raise ApiError(422, "timeline_kind_too_long",
                       f"a kind value has at most {KIND_VALUE_MAX} characters")
    # Strict, as KIND_PATTERN documents it: an empty or padded name is not a kind.
    names = [name for value in values for name in value.split(",")]
    if not names:
        return ALL_KINDS
    known = {kind.value for kind in StoryKind}
    unknown = sorted({name for name in names if name not in known})
    if unknown:
        raise ApiError(422, "unknown_timeline_kind", "unknown timeline kind: "
                       + ", ".join(unknown[:10]), kinds=unknown[:10], kinds_count=len(unknown),
                       allowed=[kind.value for kind in StoryKind])
    return frozenset(StoryKind(name) for name in names)


def timeline_view(story: Story, kinds: frozenset[StoryKind]) -> Timeline:
    items = [TimelineEntryView(event_id=i.event_id, type=i.type, occurred_at=i.occurred_at,
                               recorded_at=i.recorded_at, actor=i.actor, source=i.source,
                               data=i.data, kind=i.kind.value, subject_id=i.subject_id)
             for i in story.items]
    return Timeline(order_id=story.order_id, items=items, truncated=story.truncated,
                    kinds=[kind.value for kind in StoryKind if kind in kinds])
