"""OTIF, on time and in full: THE definition of these three KPIs. Every OTIF figure Waybill shows
(`GET /v1/kpis`, the console's KPI page and its weekly trend, stored monthly snapshots, exports)
is made here, from counts taken in SQL by `db.kpis.orders.otif_conditions`, which says the same
in SQL; change the two together.

Over a period [from, min(to, as_of)), times in UTC:

* **Due** (the denominator of all three): orders whose promise in force fell in the period,
  cancelled orders excluded. The promise in force is `orders.promised_delivery_by`, as moved
  by an agreed `promise_changed`, a backorder decision or a delivery exception's new promise.
  An order still in flight once its promise has passed is due, and counts as neither on time
  nor in full.
* **On time**: due and delivered, the delivery having occurred no later than that promise (the
  order's `on_time`, set by the order workflow when the delivery is recorded: `_deliver` in
  workflows/order/workflow.py). Where the order's policy sets `pauses_excluded_from_on_time`,
  a customer-caused wait moves that line by the time it paused the delivery deadline
  (workflows/order/pauses.py `on_time_due`); by default the promise stands.
* **In full**: due and delivered intact, every line at least at its agreed quantity (the
  ordered quantity, or what a partial-shipment decision agreed) (the order's `in_full`, set
  there too).
* **OTIF**: due, on time and in full.

Each rate carries its numerator and denominator; the rate is null when nothing fell due.
"""

from __future__ import annotations

from typing import Any

from kpis.models import rate_fields

# (due, on time, in full, OTIF) of a group: what `db.kpis.orders` counts per group.
Outcomes = tuple[int, int, int, int]
NO_OUTCOMES: Outcomes = (0, 0, 0, 0)


def otif_rates(outcomes: Outcomes) -> dict[str, dict[str, Any]]:
    """The `otif`, `on_time` and `in_full` Rate fields of a group's outcomes."""
    due, on_time, in_full, otif = outcomes
    return {"otif": rate_fields(otif, due), "on_time": rate_fields(on_time, due),
            "in_full": rate_fields(in_full, due)}
