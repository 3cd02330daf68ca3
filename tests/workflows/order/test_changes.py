"""What the order sends its read model (workflows/order/changes.py): the first write of a run
carries every field (or what differs from the opening state the API stored), later ones only
what changed and the scans not yet sent, so a write's size does not grow with the tracking feed;
values leave out their defaults and stage times go as their new keys."""

from __future__ import annotations

import json
from dataclasses import replace

from temporalio.converter import default

from tests.support.builders import order_input
from tests.support.order_states import full_state, hours
from workflows.order.changes import ChangeTracker, lean
from workflows.order.rules import opening_state
from workflows.order.types import TRACKED, Deadline, FollowUpStatus, LineState, Scan, Stage, Survey


def _scan(i: int) -> Scan:
    return Scan(event_id=f"scan-{i}", occurred_at=hours(30 + i), location=f"hub {i}",
                status="departed", eta=hours(60 + i), seen_at=hours(30 + i))


def _size(change: object) -> int:
    [payload] = default().payload_converter.to_payloads([change])
    return len(payload.data)


def test_the_first_change_carries_every_field_and_every_scan() -> None:
    state = full_state()
    change = ChangeTracker().change(state, [])
    assert set(change.changed) == set(TRACKED)
    assert "scans" not in change.changed and "seq" not in change.changed
    assert [s.event_id for s in change.scans] == ["s1"]
    assert change.latest_eta == hours(50)


def test_later_changes_carry_only_what_changed() -> None:
    state, tracker = full_state(), ChangeTracker()
    tracker.change(state, [])
    assert tracker.change(state, []).changed == {}  # nothing changed: nothing but the entries
    state.stage, state.in_full = Stage.CLOSED, True
    state.stage_times["closed"] = hours(200)
    change = tracker.change(state, [])
    assert set(change.changed) == {"stage", "in_full", "stage_times"}
    assert change.changed["stage_times"]["closed"] == hours(200)


def test_a_sent_value_is_a_copy_the_workflow_cannot_change_afterwards() -> None:
    state, tracker = full_state(), ChangeTracker()
    first = tracker.change(state, [])
    state.stage_times["closed"] = hours(200)  # mutated in place, as the workflow does
    assert "closed" not in first.changed["stage_times"]
    assert set(tracker.change(state, []).changed) == {"stage_times"}


def test_scans_go_once_each_and_the_write_does_not_grow_with_the_feed() -> None:
    state, tracker = full_state(), ChangeTracker()
    tracker.change(state, [])
    sizes = []
    for i in range(200):
        state.scans.append(_scan(i))
        state.scans.sort(key=lambda s: (s.occurred_at, s.event_id))
        change = tracker.change(state, [])
        assert [s.event_id for s in change.scans] == [f"scan-{i}"]
        sizes.append(_size(change))
    assert max(sizes) - min(sizes) < 64, sizes  # the 200th scan costs what the first did
    assert tracker.change(state, []).scans == []


def test_the_dates_follow_the_whole_feed() -> None:
    state, tracker = full_state(), ChangeTracker()
    tracker.change(state, [])
    state.scans.append(replace(_scan(5), eta=hours(99)))
    assert tracker.change(state, []).latest_eta == hours(99)


def test_a_change_is_json_the_activity_reads_without_the_workflow_types() -> None:
    change = ChangeTracker().change(full_state(), [])
    [payload] = default().payload_converter.to_payloads([change])
    body = json.loads(payload.data)
    assert body["changed"]["customer"]["name"] == "Acme"
    assert body["changed"]["stage"] == "followed_up"


def test_stage_times_go_as_their_new_keys() -> None:
    state, tracker = full_state(), ChangeTracker()
    tracker.change(state, [])
    state.stage_times["closed"] = hours(200)
    assert tracker.change(state, []).changed == {"stage_times": {"closed": hours(200)}}


def test_an_order_the_api_stored_sends_only_what_differs_from_its_opening_state() -> None:
    inp = order_input(hours(0), order_id="SO-1")
    state = opening_state(inp)
    state.next_deadline = Deadline(kind="confirm_late", due_at=hours(24))
    change = ChangeTracker(opening_state(inp)).change(state, [])
    assert change.changed == {"next_deadline": {"kind": "confirm_late", "due_at": hours(24)}}


def test_changed_values_leave_their_defaults_out() -> None:
    state, tracker = full_state(), ChangeTracker()
    tracker.change(state, [])
    state.lines = [LineState(sku="SKU-1", ordered=10, picked=10)]
    assert tracker.change(state, []).changed == {
        "lines": [{"sku": "SKU-1", "ordered": 10, "picked": 10}]}
    assert lean(Survey(status=FollowUpStatus.DUE, due_at=hours(1), expires_at=hours(2))) == {
        "status": FollowUpStatus.DUE, "due_at": hours(1), "expires_at": hours(2)}
