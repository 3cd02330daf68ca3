"""How an order's story is ordered and cut: event time, then record time, then the order's own
entry before what it caused; a cut story says so. (Its SQL runs on both engines in
tests/api/orders/test_timeline.py.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from db.orders.story import StoryItem, StoryKind, merge

T = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def _item(kind: StoryKind, occurred: int, recorded: int, event_id: str) -> StoryItem:
    return StoryItem(kind, "x", event_id, T + timedelta(seconds=occurred),
                     T + timedelta(seconds=recorded), "a", "api", {})


def test_event_time_then_record_time_then_the_cause_first() -> None:
    late_report = _item(StoryKind.ORDER, 5, 60, "picked-reported-late")
    told = _item(StoryKind.NOTIFICATION, 10, 10, "told")
    step = _item(StoryKind.ESCALATION, 10, 10, "step")
    entry = _item(StoryKind.ORDER, 10, 10, "entry")
    recorded_later = _item(StoryKind.ORDER, 10, 11, "recorded-later")
    items, cut = merge([told, recorded_later, step, entry, late_report], limit=10)
    assert [i.event_id for i in items] == ["picked-reported-late", "entry", "step", "told",
                                           "recorded-later"]
    assert cut is False


def test_a_cut_story_keeps_the_earliest_and_says_so() -> None:
    items, cut = merge([_item(StoryKind.CLAIM, n, n, str(n)) for n in (3, 1, 2)], limit=2)
    assert [i.event_id for i in items] == ["1", "2"] and cut is True
