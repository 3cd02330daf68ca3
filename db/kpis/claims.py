"""The KPI aggregates of claims (理赔): how many opened per liability and cause, and the
compensation set, per currency."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.claims.models import ClaimRow
from db.kpis.window import Key, Window, as_int, grouped, key_of

_CLAIM_OWN = {"customer": ClaimRow.customer_id, "tier": ClaimRow.customer_tier}


def claim_totals(session: Session, w: Window, group_by: Sequence[str]
                 ) -> dict[Key, list[tuple[str | None, str, str | None, int, int]]]:
    """Claims opened in the window: (liability, cause, currency, count, amount) per group; the
    amount sums the compensation set (minor units), currency is None where none is set."""
    groups, source = grouped(ClaimRow, _CLAIM_OWN, ClaimRow.order_id, group_by)
    currency = case((ClaimRow.amount_minor.is_not(None), ClaimRow.currency)).label("cur")
    dims = (ClaimRow.liability, ClaimRow.cause, currency)
    q = (select(*groups, *dims, func.count(), func.sum(ClaimRow.amount_minor))
         .select_from(source).where(w.holds(ClaimRow.opened_at)).group_by(*groups, *dims))
    n = len(groups)
    out: dict[Key, list[tuple[str | None, str, str | None, int, int]]] = {}
    for r in session.execute(q):
        out.setdefault(key_of(r, n), []).append((r[n], r[n + 1], r[n + 2], as_int(r[n + 3]),
                                                as_int(r[n + 4])))
    return out
