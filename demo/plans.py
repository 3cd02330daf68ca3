"""What happens to each demo order: mostly the happy path, now and then something goes wrong."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    # The step that arrives only after its deadline has breached: confirm, pick, delivery or
    # receipt. `stuck` holds it back long enough for the escalation to climb its ladder;
    # otherwise it comes soon after the breach and the escalation resolves itself.
    late: str | None = None
    stuck: bool = False
    condition: str = "intact"  # how the consignee signs: intact, damaged, short, refused
    shortage: str | None = None  # stock short at confirmation; the customer's choice
    cancel: bool = False  # cancelled by the customer before shipment
    scores: tuple[int, int, int] | None = (5, 4, 5)  # timeliness, completeness, courtesy

    @property
    def goods_ok(self) -> bool:
        return self.condition == "intact"


HAPPY = Plan("happy")
PLANS = {p.name: p for p in (
    HAPPY,
    Plan("happy_quiet", scores=(4, 5, 4)),
    Plan("stuck_confirm", late="confirm", stuck=True),
    Plan("late_confirm", late="confirm"),
    Plan("stuck_pick", late="pick", stuck=True),
    Plan("late_pick", late="pick"),
    Plan("late_delivery", late="delivery", scores=(4, 4, 4)),
    Plan("late_receipt", late="receipt"),
    Plan("damaged", condition="damaged", scores=(4, 4, 4)),
    Plan("low_score", scores=(1, 4, 2)),
    Plan("shortage_partial", shortage="partial"),
    Plan("shortage_cancel", shortage="cancel"),
    Plan("cancelled", cancel=True),
)}

# The first orders show every kind of trouble within a few minutes of starting.
OPENING = ("happy", "stuck_confirm", "damaged", "happy", "late_pick", "low_score",
           "shortage_partial", "late_delivery", "cancelled", "late_receipt", "stuck_pick",
           "happy_quiet", "shortage_cancel", "late_confirm")

# Afterwards: roughly how often each happens in the stream (a realistic, mostly happy share).
MIX = {"happy": 38, "happy_quiet": 10, "stuck_confirm": 5, "late_confirm": 5, "stuck_pick": 4,
       "late_pick": 5, "late_delivery": 7, "late_receipt": 6, "damaged": 6, "low_score": 5,
       "shortage_partial": 4, "shortage_cancel": 1, "cancelled": 4}


def plan_for(n: int, rng: random.Random) -> Plan:
    """The plan of the `n`th order (from 0)."""
    if n < len(OPENING):
        return PLANS[OPENING[n]]
    names = list(MIX)
    return PLANS[rng.choices(names, weights=[MIX[k] for k in names])[0]]
