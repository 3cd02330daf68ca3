"""Lean projections written to the read model (db/orders/queries.py apply_change), on both
engines: a change is applied to the state last written, a retried or older change leaves the
order as it is, and scans are rows of their own."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio.converter import default

from db.orders.models import Order, OrderEvent
from db.orders.queries import apply_change, scans_of, stored_state
from tests.support.builders import order_input
from tests.support.order_states import full_state, hours
from workflows.order.changes import ChangeTracker
from workflows.order.rules import opening_state
from workflows.order.types import (
    Deadline,
    OrderState,
    ProjectionChange,
    Scan,
    Stage,
    TimelineEntry,
)


def _wire(change: ProjectionChange) -> ProjectionChange:
    """The change as the activity receives it: through the converter, `changed` as JSON."""
    conv = default().payload_converter
    [back] = conv.from_payloads(conv.to_payloads([change]), [ProjectionChange])
    assert isinstance(back, ProjectionChange)
    return back


def _entry(event_id: str, at_hours: float) -> TimelineEntry:
    return TimelineEntry(event_id=event_id, type="note", occurred_at=hours(at_hours),
                         recorded_at=hours(at_hours), actor="desk", source="console",
                         data={"text": event_id})


def _next(state: OrderState, tracker: ChangeTracker, *entries: TimelineEntry) -> ProjectionChange:
    state.seq += 1
    return _wire(tracker.change(state, list(entries)))


def _row(sessions: sessionmaker[Session], order_id: str) -> dict[str, Any]:
    with sessions() as session:
        row = session.get(Order, order_id)
        assert row is not None
        events = session.query(OrderEvent).filter_by(order_id=order_id).count()
        return {"stage": row.stage, "seq": row.projection_seq, "closed_at": row.closed_at,
                "in_full": row.in_full, "events": events, "detail": row.detail,
                "scans": [s.event_id for s in scans_of(session, order_id)]}


def _apply(sessions: sessionmaker[Session], change: ProjectionChange) -> OrderState:
    with sessions.begin() as session:
        return apply_change(session, change)


def test_changes_build_the_order_a_whole_state_would(sessions: sessionmaker[Session]) -> None:
    state, tracker = full_state(), ChangeTracker()
    first = _apply(sessions, _next(state, tracker, _entry("n1", 1)))
    assert first == OrderState(**{**state.__dict__, "scans": []})
    state.stage, state.in_full = Stage.CLOSED, True
    state.stage_times["closed"] = hours(200)
    state.scans.append(Scan(event_id="s2", occurred_at=hours(20), location="Depot",
                            status="arrived", eta=None, seen_at=hours(40)))
    change = _next(state, tracker, _entry("n2", 2))
    assert set(change.changed) == {"stage", "in_full", "stage_times"}
    now = _apply(sessions, change)
    assert now.customer.name == "Acme" and now.stage == Stage.CLOSED  # kept + changed
    row = _row(sessions, state.order_id)
    assert (row["stage"], row["seq"], row["in_full"], row["events"]) == ("closed", 2, True, 2)
    assert row["closed_at"] == hours(200)
    assert row["scans"] == ["s2", "s1"]  # by scan time, not by arrival
    assert "scans" not in row["detail"]
    assert row["detail"]["shipment"]["tracking_no"] == "SF1"


def test_a_retried_or_older_change_leaves_the_order_as_it_is(
        sessions: sessionmaker[Session]) -> None:
    state, tracker = full_state(), ChangeTracker()
    _apply(sessions, _next(state, tracker))
    state.stage = Stage.CLOSED
    closing = _next(state, tracker, _entry("n1", 1))
    _apply(sessions, closing)
    before = _row(sessions, state.order_id)
    again = _apply(sessions, closing)  # the worker died after the commit: the attempt reruns
    assert again.stage == Stage.CLOSED and _row(sessions, state.order_id) == before
    stale = ProjectionChange(order_id=state.order_id, seq=1, changed={"stage": "shipped"},
                             scans=[], entries=[])
    assert _apply(sessions, stale).stage == Stage.CLOSED
    assert _row(sessions, state.order_id) == before


def test_the_stored_state_is_json_without_the_scans(sessions: sessionmaker[Session]) -> None:
    state, tracker = full_state(), ChangeTracker()
    _apply(sessions, _next(state, tracker))
    with sessions() as session:
        row = session.get(Order, state.order_id)
        assert row is not None and row.state is not None
        assert "scans" not in row.state and "seq" not in row.state
        json.dumps(row.state)  # plain JSON


def test_an_order_the_api_stored_is_built_on_its_opening_state(
        sessions: sessionmaker[Session]) -> None:
    inp = order_input(hours(0), order_id="SO-stored")
    # As the API stores the order (api/orders/service.py): its opening state, no projection yet.
    _apply(sessions, ProjectionChange(order_id="SO-stored", seq=0,
                                      changed=stored_state(opening_state(inp))))
    state, tracker = opening_state(inp), ChangeTracker(opening_state(inp))
    state.next_deadline = Deadline(kind="confirm_late", due_at=hours(24))
    assert _apply(sessions, _next(state, tracker)) == state
    state.stage = Stage.CONFIRMED
    state.stage_times["confirmed"] = hours(2)
    change = _next(state, tracker, _entry("n1", 2))
    assert set(change.changed["stage_times"]) == {"confirmed"}
    assert _apply(sessions, change) == state  # the received time kept, the new one merged in
    row = _row(sessions, "SO-stored")
    assert (row["stage"], row["seq"], row["events"]) == ("confirmed", 2, 1)
