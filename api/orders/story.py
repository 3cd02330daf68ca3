"""The order's story over HTTP: the `kind` filter's rule and the items as the API shows them
(the merging itself is db/orders/story.py)."""

from __future__ import annotations

from collections.abc import Iterable

from api.errors import ApiError
from api.orders.schemas import Timeline, TimelineEntryView
from db.orders.story import ALL_KINDS, STORY_LIMIT, Story, StoryKind

# A filter names each kind at most once; more values than this is not a filter but noise.
MAX_KIND_VALUES = 20
__all__ = ["STORY_LIMIT", "parse_kinds", "timeline_view"]


def parse_kinds(values: Iterable[str]) -> frozenset[StoryKind]:
    """`?kind=` repeated or comma-separated (`kind=order,claim&kind=escalation`); none = all.

    Raises:
        ApiError: 422 `unknown_timeline_kind` naming the unknown values and the known kinds.
    """
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if len(names) > MAX_KIND_VALUES:
        raise ApiError(422, "too_many_timeline_kinds",
                       f"name at most {MAX_KIND_VALUES} kinds", count=len(names))
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
