"""The triage queue's rules (console/escalations/queue.py), without a stack: what a row says
happens next, when it is overdue, the urgency order, where the late step is done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.escalations.queue import (
    action_url,
    is_overdue,
    ladder_of,
    levels_of,
    next_of,
    queue_row,
    urgency,
)
from db.escalations.models import EscalationRow
from workflows.policy import EscalationPolicy, LadderLevel

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
LADDER = EscalationPolicy(levels=[
    LadderLevel(1, ["ops_desk"], 1800, 14400),
    LadderLevel(2, ["supervisor"], 3600, 28800),
    LadderLevel(3, ["cs_manager", "key_account_manager"], 7200, 86400)],
    repeat_every=14400, snooze_max=28800)


def esc(ident: str = "esc-SO-1-confirm_late-1", level: int = 1, state: str = "open",
        next_in: timedelta | None = 20 * MIN, opened_ago: timedelta = 10 * MIN,
        **extra: object) -> EscalationRow:
    opened = NOW - opened_ago
    values: dict[str, object] = dict(
        id=ident, order_id="SO-1", breach_id="confirm_late-1", kind="confirm_late",
        stage="received", level=level, state=state, customer_id="C-1",
        customer_tier="standard", due_at=opened, opened_at=opened, level_since=opened,
        next_step_at=NOW + next_in if next_in is not None else None, subject="",
        recipients=["ops_desk"], assignee=None, acknowledged_at=None, snoozed_until=None)
    values.update(extra)
    return EscalationRow(**values)


def test_what_happens_next_names_the_level_and_who_is_told() -> None:
    nxt = next_of(esc(), LADDER)
    assert (nxt.key, nxt.level, nxt.recipients) == ("esc.next.climb", 2, ("supervisor",))
    # a key-account manager is told only about key accounts
    assert next_of(esc(level=2), LADDER).recipients == ("cs_manager",)
    assert next_of(esc(level=2, customer_tier="key_account"), LADDER).recipients == (
        "cs_manager", "key_account_manager")
    top = next_of(esc(level=3, recipients=["cs_manager"]), LADDER)
    assert (top.key, top.recipients) == ("esc.next.renotify", ("cs_manager",))
    snoozed = next_of(esc(snoozed_until=NOW + 5 * MIN), LADDER)
    assert (snoozed.key, snoozed.at) == ("esc.next.snoozed", NOW + 5 * MIN)
    assert next_of(esc(state="resolved"), LADDER).key == "esc.next.reopens"  # a waiver
    assert next_of(esc(state="resolved", next_in=None), LADDER).key == "esc.next.none"
    assert next_of(esc(), None).level == 2  # no ladder to read: the next level still


def test_overdue_means_out_of_time_with_nothing_higher_to_take_it() -> None:
    assert not is_overdue(esc(), LADDER, NOW)
    assert is_overdue(esc(next_in=-MIN), LADDER, NOW)  # the ladder's step is already due
    # at the top: its ack clock (2 h) has run out since the level began
    assert is_overdue(esc(level=3, opened_ago=3 * 60 * MIN), LADDER, NOW)
    assert not is_overdue(esc(level=3, opened_ago=60 * MIN), LADDER, NOW)
    acked = esc(level=3, opened_ago=3 * 60 * MIN, acknowledged_at=NOW - 60 * MIN)
    assert not is_overdue(acked, LADDER, NOW)  # acknowledged: 24 h to resolve
    assert not is_overdue(esc(level=3, opened_ago=3 * 60 * MIN, snoozed_until=NOW + MIN),
                          LADDER, NOW)
    assert not is_overdue(esc(state="resolved", next_in=-MIN), LADDER, NOW)


def test_urgency_puts_overdue_first_then_the_soonest_next_step_and_is_stable() -> None:
    rows = [queue_row(e, "Sanghong", LADDER, NOW) for e in (
        esc("esc-late", next_in=90 * MIN),
        esc("esc-soon", next_in=5 * MIN),
        esc("esc-top", level=3, opened_ago=5 * 60 * MIN, next_in=60 * MIN),
        esc("esc-tie-b", next_in=30 * MIN), esc("esc-tie-a", next_in=30 * MIN),
        esc("esc-none", next_in=None))]
    order = [r.esc.id for r in sorted(rows, key=urgency)]
    assert order == ["esc-top", "esc-soon", "esc-tie-a", "esc-tie-b", "esc-late", "esc-none"]
    assert order == [r.esc.id for r in sorted(reversed(rows), key=urgency)]


def test_a_row_links_to_where_its_step_is_done() -> None:
    claim = esc(kind="claim_step_late", breach_id="customer_contacted-1",
                subject="claim:SO-1-CL1")
    assert action_url(claim) == "/console/claims/SO-1-CL1#step-customer_contacted"
    complaint = esc(kind="complaint_step_late", breach_id="first_reply-1", order_id="",
                    subject="complaint:CP 7")
    assert action_url(complaint) == "/console/complaints/CP%207#step-first_reply"
    assert action_url(esc()) == "/console/orders/SO-1"
    row = queue_row(claim, "", LADDER, NOW, since=NOW - 20 * MIN, waiver="ignored: open")
    assert (row.step, row.new, row.waiver) == ("customer_contacted", True, None)
    waived = queue_row(esc(state="resolved"), "", LADDER, NOW, waiver="customer away")
    assert waived.waiver == "customer away"


def test_levels_offered_are_the_ones_the_policies_define() -> None:
    two = EscalationPolicy(levels=LADDER.levels[:2], repeat_every=1, snooze_max=1)
    assert levels_of([two]) == [1, 2] and levels_of([two, LADDER]) == [1, 2, 3]
    assert levels_of([]) == []
    assert ladder_of({"levels": [{"level": 1, "recipients": ["ops_desk"], "ack_within": 60,
                                  "resolve_within": 60}], "repeat_every": 60,
                      "snooze_max": 60}) is not None
    assert ladder_of({"levels": "nonsense"}) is None and ladder_of(None) is None
