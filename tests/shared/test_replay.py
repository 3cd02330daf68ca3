"""The pure parts of `waybill replay`: spans, the visibility queries, how a limit is shared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.replay import interleave, parse_span, type_name, visibility_queries
from tests.support.careless_order import CarelessOrderWorkflow
from workflows.order.workflow import OrderWorkflow


@pytest.mark.parametrize(("text", "span"), [
    ("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)), ("7d", timedelta(days=7)),
    ("2w", timedelta(weeks=2)), (" 1.5h ", timedelta(minutes=90)), ("45s", timedelta(seconds=45)),
])
def test_span(text: str, span: timedelta) -> None:
    assert parse_span(text) == span


@pytest.mark.parametrize("text", ["", "7", "d", "0d", "-1d", "7 days", "1y", "1e3d"])
def test_span_refused(text: str) -> None:
    with pytest.raises(ValueError, match="e.g. 7d"):
        parse_span(text)


def test_running_workflows_whatever_their_age_and_closed_ones_since() -> None:
    since = datetime(2026, 12, 1, 8, 30, tzinfo=UTC) + timedelta(microseconds=5)
    running, closed = visibility_queries("OrderWorkflow", since)
    assert running == "WorkflowType = 'OrderWorkflow' AND ExecutionStatus = 'Running'"
    assert closed == "WorkflowType = 'OrderWorkflow' AND CloseTime > '2026-12-01T08:30:00Z'"


def test_an_operator_filter_applies_to_both_queries_as_one_term() -> None:
    since = datetime(2026, 12, 1, tzinfo=UTC)
    for query in visibility_queries("ClaimWorkflow", since,
                                    " WorkflowId STARTS_WITH 'a' OR TaskQueue = 'q' "):
        assert query.startswith("WorkflowType = 'ClaimWorkflow' AND "
                                "(WorkflowId STARTS_WITH 'a' OR TaskQueue = 'q') AND ")


def test_a_limit_is_shared_between_running_and_closed_while_both_last() -> None:
    running = [("r1", "a"), ("r2", "a"), ("r3", "a")]
    closed = [("c1", "a")]
    assert interleave(running, closed, 3) == [("r1", "a"), ("c1", "a"), ("r2", "a")]
    assert interleave(running, closed, 10) == [("r1", "a"), ("c1", "a"), ("r2", "a"),
                                               ("r3", "a")]
    assert interleave([], closed, 5) == closed
    # a run closed between the two list calls is counted once
    assert interleave([("x", "1")], [("x", "1"), ("y", "1")], 5) == [("x", "1"), ("y", "1")]


def test_type_name_is_the_registered_name_not_the_class_name() -> None:
    assert type_name(OrderWorkflow) == "OrderWorkflow"
    assert type_name(CarelessOrderWorkflow) == "OrderWorkflow"
