"""The board for now (issue 18 §4), read from seeded read-model rows on both engines: active
stages only, closed and cancelled as counts; overdue cards first; the filters "overdue now",
"open escalation", "open claim/complaint" apart from "ever breached"; each card's open work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from console.board.view import ACTIVE_STAGES, Board, BoardFilter, board
from db.engine import transaction
from db.orders.queries import RuleDates, apply_projection
from tests.support import kpi_fixtures as fx
from tests.support.builders import STANDARD
from workflows.claim.types import ClaimCause
from workflows.escalation.types import EscalationAction
from workflows.order.types import (
    Breach,
    BreachKind,
    Customer,
    Deadline,
    LineState,
    OrderState,
    ProjectionInput,
    Stage,
    Tier,
)

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def h(n: float) -> datetime:
    return NOW + timedelta(hours=n)


def _order(session: Session, order_id: str, stage: Stage, *, next_in: float | None = None,
           breach_due: float | None = None, cleared: bool = False) -> None:
    breaches = [] if breach_due is None else [Breach(
        id=f"{order_id}-b1", kind=BreachKind.PICK_LATE, stage=Stage.CONFIRMED,
        due_at=h(breach_due), detected_at=h(breach_due),
        cleared_at=h(breach_due + 0.5) if cleared else None)]
    state = OrderState(
        order_id=order_id, customer=Customer(id="C-A", name="C-A Ltd", tier=Tier.STANDARD),
        lines=[LineState("SKU-1", 1)], destination={"city": "Shanghai"},
        promised_ship_by=h(24), promised_delivery_by=h(72), policy=STANDARD, stage=stage,
        stage_times={Stage.RECEIVED.value: h(-48), stage.value: h(-24)}, breaches=breaches,
        next_deadline=Deadline(kind="ship_by", due_at=h(next_in)) if next_in is not None
        else None, seq=1)
    apply_projection(session, ProjectionInput(state=state, entries=[]), RuleDates())


def _seed(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        _order(s, "SO-SOON", Stage.CONFIRMED, next_in=1)
        _order(s, "SO-LATE", Stage.CONFIRMED, next_in=20, breach_due=-2)  # open breach
        _order(s, "SO-CLEARED", Stage.CONFIRMED, next_in=5, breach_due=-30, cleared=True)
        _order(s, "SO-PASSED", Stage.PICKED, next_in=-0.2)  # passed, not yet recorded
        _order(s, "SO-DONE", Stage.CLOSED, breach_due=-40, cleared=True)
        _order(s, "SO-GONE", Stage.CANCELLED)
        fx.escalation(s, "esc-late", "SO-LATE", "C-A", BreachKind.PICK_LATE, Stage.CONFIRMED,
                      "11-20T10:00", [("11-20T10:00", EscalationAction.OPENED, 1),
                                      ("11-20T11:00", EscalationAction.CLIMBED, 2)])
        fx.escalation(s, "esc-old", "SO-DONE", "C-A", BreachKind.PICK_LATE, Stage.CONFIRMED,
                      "11-18T10:00", [("11-18T10:00", EscalationAction.OPENED, 1)],
                      resolved="11-18T12:00")
        fx.claim(s, "SO-SOON-CL1", "SO-SOON", "C-A", ClaimCause.DAMAGED, "11-20T09:00")
        fx.complaint(s, "SO-CLEARED-CP1", "SO-CLEARED", "C-A", "11-20T08:00")
        fx.complaint(s, "SO-DONE-CP1", "SO-DONE", "C-A", "11-18T08:00",
                     resolved="11-18T09:00", score=(5, "11-18T10:00"))  # closed


def _read(sessions: sessionmaker[Session], **flags: str) -> Board:
    with transaction(sessions) as s:
        return board(s, BoardFilter.parse(**flags), NOW)


def _ids(b: Board, stage: str) -> list[str]:
    column = next(c for c in b.columns if c.stage == stage)
    return [card.order.order_id for card in column.cards]


def test_active_stages_only_overdue_first_and_open_work_on_each_card(
        sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    b = _read(sessions)
    assert [c.stage for c in b.columns] == list(ACTIVE_STAGES)
    assert "closed" not in ACTIVE_STAGES and "cancelled" not in ACTIVE_STAGES
    assert b.done == {"closed": 1, "cancelled": 1}
    # The open breach first, though its next deadline is the latest of the three.
    assert _ids(b, "confirmed") == ["SO-LATE", "SO-SOON", "SO-CLEARED"]
    confirmed = next(c for c in b.columns if c.stage == "confirmed")
    assert (confirmed.count, confirmed.overdue) == (3, 1)
    cards = {card.order.order_id: card for c in b.columns for card in c.cards}
    assert cards["SO-LATE"].overdue and cards["SO-LATE"].escalation_level == 2
    assert not cards["SO-CLEARED"].overdue and cards["SO-CLEARED"].order.breached
    assert cards["SO-PASSED"].overdue  # its deadline passed before the workflow said so
    assert [c.id for c in cards["SO-SOON"].work.claims] == ["SO-SOON-CL1"]
    assert [c.id for c in cards["SO-CLEARED"].work.complaints] == ["SO-CLEARED-CP1"]
    assert cards["SO-SOON"].escalation_level is None


def test_overdue_now_is_not_ever_breached(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    overdue = _read(sessions, overdue="1")
    assert _ids(overdue, "confirmed") == ["SO-LATE"] and _ids(overdue, "picked") == ["SO-PASSED"]
    assert overdue.done == {"closed": 0, "cancelled": 0}  # a finished order is never overdue
    ever = _read(sessions, breached="1")
    assert _ids(ever, "confirmed") == ["SO-LATE", "SO-CLEARED"]
    assert ever.done == {"closed": 1, "cancelled": 0}


def test_open_escalation_and_open_case_filters(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    assert _ids(_read(sessions, escalated="1"), "confirmed") == ["SO-LATE"]
    cases = _read(sessions, cases="1")
    assert _ids(cases, "confirmed") == ["SO-SOON", "SO-CLEARED"]
    assert cases.done == {"closed": 0, "cancelled": 0}  # SO-DONE's complaint is closed
