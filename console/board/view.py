"""The board's read of the orders table (the same read model GET /v1/orders serves): cards per
stage under the board's filters, with every column's full count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from api.orders.read_model import Breach, CustomerView, customer_of, open_breaches_of
from db.orders.models import Order
from workflows.order.types import Stage, Tier

CARDS_PER_COLUMN = 50
STAGES = tuple(s.value for s in Stage)
TIERS = tuple(t.value for t in Tier)


@dataclass(frozen=True)
class BoardFilter:
    customer: str = ""
    tier: str = ""
    breached: bool = False
    q: str = ""

    @classmethod
    def parse(cls, customer: str | None, tier: str | None, breached: str | None,
              q: str | None) -> BoardFilter:
        return cls(customer=(customer or "").strip()[:64],
                   tier=tier if tier in TIERS else "",
                   breached=breached in ("1", "on", "true"),
                   q=(q or "").strip()[:64])

    def query(self) -> dict[str, str]:
        """The filter as query parameters (the board's fragment URL repeats them)."""
        params = {"customer": self.customer, "tier": self.tier, "q": self.q}
        if self.breached:
            params["breached"] = "1"
        return {k: v for k, v in params.items() if v}

    def apply(self, q: Select) -> Select:
        if self.customer:
            q = q.where(or_(Order.customer_id == self.customer,
                            func.lower(Order.customer["name"].as_string())
                            .contains(self.customer.lower())))
        if self.tier:
            q = q.where(Order.customer_tier == self.tier)
        if self.breached:
            q = q.where(Order.breached.is_(True))
        if self.q:
            needle = self.q.lower()
            q = q.where(or_(func.lower(Order.order_id).contains(needle),
                            func.lower(func.coalesce(Order.tracking_no, "")).contains(needle)))
        return q


@dataclass(frozen=True)
class Card:
    """One order on the board, with what its card reads from the order's read model."""

    order: Order
    customer: CustomerView
    # Breaches not yet cleared, most overdue first: what a breached card says beside its badge
    # (the card's next deadline may be a later, unbreached one).
    open_breaches: list[Breach]

    @classmethod
    def of(cls, order: Order) -> Card:
        return cls(order=order, customer=customer_of(order),
                   open_breaches=open_breaches_of(order))


@dataclass
class Column:
    stage: str
    count: int = 0
    cards: list[Card] = field(default_factory=list)


def board(session: Session, flt: BoardFilter) -> list[Column]:
    """Columns in lifecycle order; cards soonest deadline first, then newest."""
    counts = dict(session.execute(
        flt.apply(select(Order.stage, func.count()).group_by(Order.stage))).all())
    columns = {stage: Column(stage, counts.get(stage, 0)) for stage in STAGES}
    for stage, column in columns.items():
        if not column.count:
            continue
        q = flt.apply(select(Order).where(Order.stage == stage)).order_by(
            Order.next_deadline_at.is_(None), Order.next_deadline_at,
            Order.created_at.desc()).limit(CARDS_PER_COLUMN)
        column.cards = [Card.of(order) for order in session.scalars(q)]
    return list(columns.values())


def now() -> datetime:
    return datetime.now(UTC)
