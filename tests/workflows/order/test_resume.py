"""What a long order carries into its next run (workflows/order/resume.py): every part of its
state out and back in through Temporal's converter, only the scans the deadline rules read,
and event ids that still tell a duplicate from another body after the continue-as-new."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace
from typing import Any

import pytest
from temporalio.converter import default
from temporalio.exceptions import ApplicationError

from tests.support.builders import order_input
from tests.support.order_states import full_state, hours
from workflows.escalation.link import EscalationLink
from workflows.order.breaches import OrderBreaches
from workflows.order.deadlines import active_deadlines, latest_eta
from workflows.order.exceptions import OrderExceptions
from workflows.order.follow_up import OrderFollowUp
from workflows.order.resume import kept_scans, resume_of
from workflows.order.types import OrderInput, OrderState, Scan, Stage
from workflows.rejections import HASH_CHARS, refuse_repeat


def _round_trip(inp: OrderInput) -> tuple[OrderInput, int]:
    converter = default().payload_converter
    [payload] = converter.to_payloads([inp])
    [back] = converter.from_payloads([payload], [OrderInput])
    return back, len(payload.data)


def _hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def _feed(n: int) -> list[Scan]:
    """n scans an hour apart, each seen a minute after it was made, every third with an ETA
    that slips later each time."""
    return [Scan(event_id=f"scan-{i:05d}", occurred_at=hours(21 + i), location=f"hub {i}",
                 status="departed", eta=hours(200 + i) if i % 3 == 0 else None,
                 seen_at=hours(21 + i + 1 / 60)) for i in range(n)]


def _moving(scans: list[Scan]) -> OrderState:
    state = replace(full_state(), stage=Stage.IN_TRANSIT, decision=None, repick_since=None,
                    receipt=None, survey=None, heard_at=None, scans=scans)
    state.stage_times = {k: v for k, v in state.stage_times.items()
                         if k in ("received", "confirmed", "picked", "shipped", "in_transit")}
    return state


@pytest.mark.unit
def test_every_part_of_the_state_comes_back_from_the_next_runs_input() -> None:
    state = full_state()
    state.seq = 41
    hashes = {"ev-1": _hash("a"), "ev-2": _hash("b")}
    resume = resume_of(state, hashes, "survey_response", "followed_up")
    back, _ = _round_trip(replace(order_input(hours(0)), resume=resume))
    assert back.resume is not None
    for f in fields(OrderState):  # one by one, so a failure names the part that was lost
        assert getattr(back.resume.state, f.name) == getattr(state, f.name), f.name
    assert back.resume.state.seq == 41  # the read model ignores an older seq: it must go on
    assert back.resume.last_event == "survey_response"
    assert back.resume.shown_stage == "followed_up"
    assert back.resume.event_hashes == {"ev-1": _hash("a")[:HASH_CHARS],
                                        "ev-2": _hash("b")[:HASH_CHARS]}


@pytest.mark.unit
def test_an_input_without_a_resume_decodes_as_a_first_run() -> None:
    back, _ = _round_trip(order_input(hours(0)))
    assert back.resume is None and back.history_limit_bytes is None


@pytest.mark.unit
def test_a_repeat_after_the_continue_as_new_is_a_duplicate_and_another_body_is_refused() -> None:
    resume = resume_of(full_state(), {"ev-1": _hash("a")}, "tracking_scan", "in_transit")
    known = resume.event_hashes["ev-1"]
    with pytest.raises(ApplicationError) as same:
        refuse_repeat(known, "ev-1", _hash("a"))
    assert same.value.type == "duplicate_event"
    with pytest.raises(ApplicationError) as other:
        refuse_repeat(known, "ev-1", _hash("b"))
    assert other.value.type == "event_id_reused"
    refuse_repeat(resume.event_hashes.get("ev-2"), "ev-2", _hash("c"))  # a new id passes


@pytest.mark.unit
def test_within_a_run_whole_hashes_are_compared_and_an_empty_one_matches_only_itself() -> None:
    with pytest.raises(ApplicationError) as same:
        refuse_repeat("", "ev-1", "")
    assert same.value.type == "duplicate_event"
    with pytest.raises(ApplicationError) as other:
        refuse_repeat("", "ev-1", _hash("a"))  # an empty start is not a prefix of every body
    assert other.value.type == "event_id_reused"


@pytest.mark.unit
def test_only_the_scans_the_deadlines_read_are_carried_and_they_give_the_same_deadlines() -> None:
    feed = _feed(2000)
    # A late scan of an earlier time (seen now): the scan gap counts from when it was made.
    feed.insert(5, Scan(event_id="late", occurred_at=hours(25.5), location="x",
                        status="departed", seen_at=hours(2100)))
    state = _moving(feed)
    resume = resume_of(state, {}, "tracking_scan", "in_transit")
    kept = resume.state.scans
    assert [s.event_id for s in kept] == ["scan-01998", "scan-01999"]
    now = hours(2025)
    assert active_deadlines(resume.state, now) == active_deadlines(state, now)
    assert latest_eta(resume.state) == latest_eta(state) == hours(200 + 1998)
    # Scans still to come meet the kept ones as they would have met the whole feed.
    later = [Scan(event_id="next-1", occurred_at=hours(2030), location="y", status="arrived",
                  seen_at=hours(2030)),
             Scan(event_id="next-2", occurred_at=hours(1000), location="z", status="arrived",
                  eta=hours(9000), seen_at=hours(2031))]
    whole, carried = _moving(feed + later), _moving(kept + later)
    for s in (whole, carried):
        s.scans.sort(key=lambda scan: (scan.occurred_at, scan.event_id))
    assert active_deadlines(carried, hours(2040)) == active_deadlines(whole, hours(2040))
    assert latest_eta(carried) == latest_eta(whole)


@pytest.mark.unit
def test_no_scans_and_scans_without_an_eta() -> None:
    assert kept_scans([]) == []
    feed = [replace(s, eta=None) for s in _feed(10)]
    assert [s.event_id for s in kept_scans(feed)] == ["scan-00009"]


@pytest.mark.unit
def test_the_resume_of_a_2000_scan_order_stays_small() -> None:
    """The resume is the first event of every run: its size must not grow with the feed's
    scans, only (by ~40 bytes each) with the event ids it must still recognise."""
    hashes = {f"{i:08d}-{i:04d}-4000-8000-{i:012d}": _hash(str(i)) for i in range(2010)}
    inp = replace(order_input(hours(0)),
                  resume=resume_of(_moving(_feed(2000)), hashes, "tracking_scan", "in_transit"))
    _, size = _round_trip(inp)
    assert size < 150_000, size


@pytest.mark.unit
def test_the_order_parts_keep_no_state_of_their_own() -> None:
    """Breaches, follow-up and exceptions keep everything in OrderState, which the resume
    carries whole; a part that grows state of its own must add it to OrderResume (this test
    then names it)."""
    case: Any = object()
    exceptions = OrderExceptions(case)
    parts = {"breaches": OrderBreaches(case, EscalationLink()), "exceptions": exceptions,
             "follow_up": OrderFollowUp(case, exceptions.open_complaint)}
    held = {name: set(vars(part)) for name, part in parts.items()}
    assert held == {"breaches": {"_case", "_ladders"}, "exceptions": {"_case"},
                    "follow_up": {"_case", "_open_complaint"}}
