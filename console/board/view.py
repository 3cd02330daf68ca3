"""The board: what needs someone now (issue 18 §4). Active stages only, overdue cards first;
closed and cancelled orders are counts linking to their list. Filters: overdue now, an open
escalation, an open claim or complaint, and (separately) ever breached.
SQL: db/orders/board.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.orders.read_model import Breach, CustomerView, customer_of, open_breaches_of
from db.orders import board as repo
from db.orders.board import OpenWork, OrderQuery
from db.orders.models import Order
from workflows.order.types import Stage, Tier

CARDS_PER_COLUMN = 50
# Orders a stage may hold that are overdue now, read to find them (SQL cannot see a cleared
# breach): a bound, so one bad day cannot make the board read every order of a stage.
OVERDUE_READ_CAP = 1000
STAGES = tuple(s.value for s in Stage)
# What the board shows as columns: the work still to do. A closed or cancelled order needs no
# one; the board shows those two as counts linking to /console/orders?stage=...
DONE_STAGES = (Stage.CLOSED.value, Stage.CANCELLED.value)
ACTIVE_STAGES = tuple(s for s in STAGES if s not in DONE_STAGES)
TIERS = tuple(t.value for t in Tier)
_ON = ("1", "on", "true")
# The board's check boxes: query parameter -> BoardFilter field.
FLAGS = ("overdue", "escalated", "cases", "breached")


@dataclass(frozen=True)
class BoardFilter:
    customer: str = ""
    tier: str = ""
    q: str = ""
    overdue: bool = False  # overdue now: an open breach, or the next deadline passed
    escalated: bool = False  # an open escalation
    cases: bool = False  # an open claim or complaint
    breached: bool = False  # ever breached, cleared or not

    @classmethod
    def parse(cls, customer: str | None = None, tier: str | None = None,
              q: str | None = None, **flags: str | None) -> BoardFilter:
        return cls(customer=(customer or "").strip()[:64],
                   tier=tier if tier in TIERS else "",
                   q=(q or "").strip()[:64],
                   **{name: flags.get(name) in _ON for name in FLAGS})

    def query(self) -> dict[str, str]:
        """The filter as query parameters (the fragment URL and the list links repeat them)."""
        params = {"customer": self.customer, "tier": self.tier, "q": self.q,
                  **{name: "1" for name in FLAGS if getattr(self, name)}}
        return {k: v for k, v in params.items() if v}

    def sql(self) -> OrderQuery:
        return OrderQuery(customer=self.customer, tier=self.tier, q=self.q,
                          ever_breached=self.breached, open_escalation=self.escalated,
                          open_case=self.cases)


def is_overdue(order: Order, breaches: list[Breach], now: datetime) -> bool:
    """Overdue now: a breach not yet cleared, or a deadline passed the workflow has not
    recorded yet. "Ever breached" (orders.breached) is another thing."""
    return bool(breaches) or (order.next_deadline_at is not None and order.next_deadline_at <= now)


def _late_since(card: Card) -> datetime:
    """How long a card has been overdue: its oldest open breach, or its passed deadline."""
    dues = [b.due_at for b in card.open_breaches]
    if card.order.next_deadline_at is not None:
        dues.append(card.order.next_deadline_at)
    return min(dues)


@dataclass(frozen=True)
class Card:
    """One order on the board, with what its card reads from the order's read model."""

    order: Order
    customer: CustomerView
    # Breaches not yet cleared, most overdue first: what an overdue card says (the card's next
    # deadline may be a later, unbreached one).
    open_breaches: list[Breach]
    overdue: bool
    work: OpenWork = field(default_factory=OpenWork)

    @classmethod
    def of(cls, order: Order, now: datetime) -> Card:
        breaches = open_breaches_of(order)
        return cls(order=order, customer=customer_of(order), open_breaches=breaches,
                   overdue=is_overdue(order, breaches, now))

    @property
    def escalation_level(self) -> int | None:
        return max((e.level for e in self.work.escalations), default=None)


@dataclass
class Column:
    stage: str
    count: int = 0
    overdue: int = 0
    cards: list[Card] = field(default_factory=list)


@dataclass
class Board:
    columns: list[Column]
    done: dict[str, int]  # closed / cancelled: how many, under the same filters


def _column(session: Session, flt: BoardFilter, stage: str, count: int,
            now: datetime) -> Column:
    query = flt.sql()
    late = sorted((c for c in (Card.of(o, now) for o in repo.maybe_overdue(
        session, query, stage, now, OVERDUE_READ_CAP)) if c.overdue), key=_late_since)
    if flt.overdue:
        return Column(stage, len(late), len(late), late[:CARDS_PER_COLUMN])
    cards = late[:CARDS_PER_COLUMN]
    room = CARDS_PER_COLUMN - len(cards)
    if room > 0:
        cards += [Card.of(o, now) for o in repo.soonest(
            session, query, stage, [c.order.order_id for c in late], room)]
    return Column(stage, count, len(late), cards)


def board(session: Session, flt: BoardFilter, now: datetime) -> Board:
    """Active columns in lifecycle order, overdue cards first (the longest overdue first), then
    the soonest next deadline, then the newest; and the closed and cancelled counts."""
    counts = repo.stage_counts(session, flt.sql())
    columns = [_column(session, flt, stage, counts.get(stage, 0), now)
               if counts.get(stage, 0) else Column(stage) for stage in ACTIVE_STAGES]
    cards = [card for column in columns for card in column.cards]
    work = repo.open_work(session, [c.order.order_id for c in cards])
    for column in columns:
        column.cards = [Card(c.order, c.customer, c.open_breaches, c.overdue,
                             work[c.order.order_id]) for c in column.cards]
    done = {stage: 0 if flt.overdue else counts.get(stage, 0) for stage in DONE_STAGES}
    return Board(columns=columns, done=done)


def now() -> datetime:
    return datetime.now(UTC)
