"""A survey response is judged by the survey's time, not only by the timer that marks it due.

Under lean projections the read model can show a survey due before the workflow has handled the
timer (the projection of a task that then failed, e.g. its worker was killed, was already
written), and an activation hands the workflow an update before it fires its timers: a customer
answering then must not be refused (the full soak saw 6 of 300 refused so before this rule)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from tests.support.builders import SURVEY, event, order_input
from workflows.order import event_data as ev
from workflows.order.rules import check_event
from workflows.order.types import FollowUpStatus, LineState, OrderState, Stage, Survey

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
DUE = T0 + timedelta(days=1)


def delivered_order() -> OrderState:
    inp = order_input(T0)
    return OrderState(
        order_id=inp.order_id, customer=inp.customer,
        lines=[LineState(sku=line.sku, ordered=line.qty) for line in inp.lines],
        destination=inp.destination, promised_ship_by=inp.promised_ship_by,
        promised_delivery_by=inp.promised_delivery_by, policy=inp.policy,
        stage=Stage.DELIVERED, stage_times={Stage.RECEIVED.value: T0},
        survey=Survey(status=FollowUpStatus.PENDING, due_at=DUE,
                      expires_at=DUE + timedelta(days=3)))


def answer(state: OrderState, now: datetime | None) -> None:
    inp = event("survey_response", DUE, SURVEY)
    check_event(state, inp, ev.parse(inp.type, inp.data), True, now)


def test_a_survey_whose_time_has_come_takes_its_answer_before_the_timer_is_handled() -> None:
    answer(delivered_order(), DUE + timedelta(seconds=1))


def test_a_survey_not_yet_due_refuses_an_answer() -> None:
    with pytest.raises(ApplicationError) as refused:
        answer(delivered_order(), DUE - timedelta(seconds=1))
    assert refused.value.type == "invalid_transition"


def test_runs_before_lean_projections_judge_by_the_timer_alone() -> None:
    with pytest.raises(ApplicationError):
        answer(delivered_order(), None)
