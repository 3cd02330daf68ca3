"""Counting one order event: accepted with its latency, or refused with its code."""

from __future__ import annotations

import pytest

from observability.metrics import (
    EVENT_ACCEPT_SECONDS,
    EVENTS_ACCEPTED,
    EVENTS_REFUSED,
    event_outcome,
    refusal_code,
)


class Refusal(Exception):
    code = "invalid_transition"


def count(metric: object, **labels: str) -> float:
    return metric.labels(**labels)._value.get()  # type: ignore[attr-defined, no-any-return]


def latency_count(event_type: str) -> float:
    family = next(iter(EVENT_ACCEPT_SECONDS.collect()))
    return sum(s.value for s in family.samples
               if s.name.endswith("_count") and s.labels["type"] == event_type)


def test_an_accepted_event_is_counted_and_timed() -> None:
    before = count(EVENTS_ACCEPTED, type="note", duplicate="true"), latency_count("note")
    with event_outcome("note") as outcome:
        outcome.duplicate = True
    assert count(EVENTS_ACCEPTED, type="note", duplicate="true") == before[0] + 1
    assert latency_count("note") == before[1] + 1


def test_a_refused_event_is_counted_by_its_code_and_not_timed() -> None:
    before = count(EVENTS_REFUSED, type="picked", code="invalid_transition")
    timed = latency_count("picked")
    with pytest.raises(Refusal), event_outcome("picked"):
        raise Refusal
    assert count(EVENTS_REFUSED, type="picked", code="invalid_transition") == before + 1
    assert latency_count("picked") == timed


def test_an_outage_is_named_by_its_class() -> None:
    assert refusal_code(TimeoutError()) == "TimeoutError"
    assert refusal_code(Refusal()) == "invalid_transition"
