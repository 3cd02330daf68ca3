"""Formulas that turn a group's raw aggregates into figure fields: nearest-rank percentiles of
durations, escalations by level, stage and kind, claims by liability and cause with their amounts
per currency. Pure: no database (OTIF's rates: kpis/otif.py).

Fields are returned as plain values, validated into models later in one call per group
(kpis/compute.py says why).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from kpis.models import Durations

PERCENTILES = (50, 90)
_NO_DURATIONS = Durations()  # shared by every empty figure of a report (Durations is frozen)
Fields = dict[str, Any]  # a model's fields as plain values, validated later


def durations(values: np.ndarray | None) -> Durations | Fields:
    """Count, nearest-rank p50 and p90 (the ceil(p/100 * n)-th smallest, like
    `percentile_disc`) and max of some seconds, which are reordered in place."""
    if values is None or not len(values):
        return _NO_DURATIONS
    n = len(values)
    ranks = [-(-p * n // 100) - 1 for p in PERCENTILES]
    # In place: a copy per group and metric (thousands in a grouped report) is time wasted on
    # arrays made for this report only, whose order means nothing.
    values.partition([*ranks, n - 1])
    p50, p90 = (int(values[r]) for r in ranks)
    return {"count": n, "p50": p50, "p90": p90, "max": int(values[n - 1])}


def _amounts(by_currency: dict[str, int]) -> list[Fields]:
    return [{"currency": c, "amount_minor": a} for c, a in sorted(by_currency.items())]


def escalation_fields(rows: list[tuple[int, str, str, int]],
                      seconds: dict[str, np.ndarray]) -> Fields:
    """Escalations opened, by level reached, stage and kind (`rows`: db.kpis.escalations
    `escalation_counts`), and the durations of `seconds` per metric."""
    level: Counter[str] = Counter()
    stage: Counter[str] = Counter()
    kind: Counter[str] = Counter()
    for lvl, stg, knd, n in rows:
        level[str(lvl)] += n
        stage[stg] += n
        kind[knd] += n
    return {"opened": sum(level.values()), "by_level": dict(sorted(level.items())),
            "by_stage": dict(sorted(stage.items())), "by_kind": dict(sorted(kind.items())),
            "time_to_acknowledge": durations(seconds.get("time_to_acknowledge")),
            "time_to_resolve": durations(seconds.get("time_to_resolve"))}


def claim_fields(rows: list[tuple[str | None, str, str | None, int, int]]) -> Fields:
    """Claims opened, with the compensation set per currency, in total and by liability and
    cause (`rows`: db.kpis.claims `claim_totals`)."""
    total: dict[str, int] = {}
    # per dimension and value: [count, amount per currency]
    splits: dict[str, dict[str, tuple[list[int], dict[str, int]]]] = {
        "liability": {}, "cause": {}}
    for liability, cause, currency, n, amount in rows:
        if currency is not None:
            total[currency] = total.get(currency, 0) + amount
        for dim, value in (("liability", liability or "undecided"), ("cause", cause)):
            count, money = splits[dim].setdefault(value, ([0], {}))
            count[0] += n
            if currency is not None:
                money[currency] = money.get(currency, 0) + amount
    def split(dim: str) -> dict[str, Fields]:
        return {value: {"count": count[0], "amounts": _amounts(money)}
                for value, (count, money) in sorted(splits[dim].items())}
    return {"opened": sum(n for *_, n, _a in rows), "amounts": _amounts(total),
            "by_liability": split("liability"), "by_cause": split("cause")}
