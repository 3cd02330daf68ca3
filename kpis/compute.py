"""Assembling KPI figures from the repository's aggregates (db/kpis/: one module per family),
per group and in total.

Definitions (each figure counts what fell in [from, min(to, as_of)), times in UTC):

* OTIF, on-time, in-full: THE definition is kpis/otif.py.
* Cycle times: per stage transition, the transitions that ended in the period.
* Receipt return: receipts whose deadline fell in the period, returned by that deadline;
  the receipt cycle is the delivered -> receipt_archived cycle time.
* Follow-ups: those that fell due in the period; attempted (invitation sent or a call made)
  and answered over due; satisfaction per question of the answered ones (and the monthly
  follow-up report, kpis/follow_up_report.py).
* Escalations and complaints and claims: opened in the period; their durations ended in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db.kpis.claims import claim_totals
from db.kpis.complaints import complaint_durations, complaint_scores, complaints_opened
from db.kpis.escalations import escalation_counts, escalation_durations
from db.kpis.follow_ups import follow_up_counts, survey_scores
from db.kpis.orders import order_figures
from db.kpis.window import Key, Window, prepare_report
from kpis.figures import Fields, claim_fields, durations, escalation_fields
from kpis.models import (
    GROUP_KEYS,
    TRANSITION_NAMES,
    TRANSITIONS,
    KpiFigures,
    KpiReport,
    Period,
    rate_fields,
    score_fields,
)
from kpis.otif import NO_OUTCOMES, Outcomes, otif_rates

T = TypeVar("T")


@dataclass(frozen=True)
class KpiQuery:
    """[from_, to) in UTC, grouped by keys of GROUP_KEYS; as_of (default now) is the instant
    the figures are taken at: a promise, receipt or follow-up falls due only before it."""

    from_: datetime
    to: datetime
    group_by: Sequence[str] = field(default_factory=list)
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        unknown = [k for k in self.group_by if k not in GROUP_KEYS]
        if unknown:
            raise ValueError(f"unknown group keys {unknown}; known: {list(GROUP_KEYS)}")
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("a group key is repeated")


def _pivot(data: dict[tuple[Key, str], T]) -> dict[Key, dict[str, T]]:
    out: dict[Key, dict[str, T]] = {}
    for (key, metric), value in data.items():
        out.setdefault(key, {})[metric] = value
    return out


def _merged(parts: list[Any]) -> Any:
    """Several groups' raw figures as one: counts add up, lists and seconds are joined (each
    once: merging pairwise would copy the month's seconds once per group)."""
    first = parts[0]
    if isinstance(first, dict):
        keys = {k for part in parts for k in part}
        return {k: _merged([part[k] for part in parts if k in part]) for k in keys}
    if isinstance(first, tuple):
        return tuple(sum(column) for column in zip(*parts, strict=True))
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    if isinstance(first, list):
        return [item for part in parts for item in part]
    return sum(parts)


def _total(by_key: dict[Key, T]) -> dict[Key, T]:
    """The raw figures of every group merged under the total's key `()`: every row counted in
    a group (a missing key included) is counted once in the total."""
    return {(): _merged(list(by_key.values()))} if by_key else {}


# (outcomes, receipts, cycle times) of the window's orders, per group
_OrderRaw = tuple[dict[Key, Outcomes], dict[Key, tuple[int, int]],
                  dict[Key, dict[str, np.ndarray]]]


def _order_figures(session: Session, w: Window, group_by: Sequence[str]) -> _OrderRaw:
    got = order_figures(session, w, group_by, TRANSITIONS)
    return got.outcomes, got.receipts, _pivot(got.cycles)


def _order_figures_apart(engine: Engine, w: Window, group_by: Sequence[str]
                         ) -> _OrderRaw:
    with Session(engine) as session:
        prepare_report(session)
        return _order_figures(session, w, group_by)


@dataclass
class _Raw:
    """What the repository returns for one grouping, before figures are made of it."""

    outcomes: dict[Key, Outcomes]
    cycles: dict[Key, dict[str, np.ndarray]]
    receipts: dict[Key, tuple[int, int]]
    follow_ups: dict[Key, dict[str, int]]
    scores: dict[Key, dict[str, dict[int, int]]]
    esc_counts: dict[Key, list[tuple[int, str, str, int]]]
    esc_durations: dict[Key, dict[str, np.ndarray]]
    complaints: dict[Key, int]
    complaint_durations: dict[Key, dict[str, np.ndarray]]
    complaint_scores: dict[Key, dict[int, int]]
    claims: dict[Key, list[tuple[str | None, str, str | None, int, int]]]

    @classmethod
    def read(cls, session: Session, w: Window, group_by: Sequence[str]) -> _Raw:
        """Read with `session`; on PostgreSQL the orders' figures, half of the work, are read
        at the same time on a connection of their own, so they see committed data only."""
        bind = session.get_bind()
        if not (isinstance(bind, Engine) and bind.dialect.name == "postgresql"):
            return cls._read_rest(session, w, group_by,
                                  lambda: _order_figures(session, w, group_by))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-orders") as pool:
            pending = pool.submit(_order_figures_apart, bind, w, group_by)
            try:
                return cls._read_rest(session, w, group_by, pending.result)
            finally:
                pending.cancel()

    @classmethod
    def _read_rest(cls, session: Session, w: Window, group_by: Sequence[str],
                   orders: Callable[[], _OrderRaw]) -> _Raw:
        """Everything but the orders' figures read with `session`, then `orders()` (last, so
        that when they are being read elsewhere they are waited for only at the end)."""
        rest = {
            "follow_ups": follow_up_counts(session, w, group_by),
            "scores": survey_scores(session, w, group_by),
            "esc_counts": escalation_counts(session, w, group_by),
            "esc_durations": _pivot(escalation_durations(session, w, group_by)),
            "complaints": complaints_opened(session, w, group_by),
            "complaint_durations": _pivot(complaint_durations(session, w, group_by)),
            "complaint_scores": complaint_scores(session, w, group_by),
            "claims": claim_totals(session, w, group_by)}
        outcomes, receipts, cycles = orders()
        return cls(outcomes=outcomes, receipts=receipts, cycles=cycles, **rest)

    def total(self) -> _Raw:
        return _Raw(**{f.name: _total(getattr(self, f.name)) for f in fields(self)})

    def figures(self) -> dict[Key, KpiFigures]:
        keys: set[Key] = set()
        for f in fields(self):
            keys.update(getattr(self, f.name))
        # Made of plain values, validated in one call per group: pydantic-core builds the
        # ~30 models of a group several times faster than model_construct's Python does, and
        # the plain values die young (kept for the whole report, they took the collector's
        # full passes, ~100 ms at a time, into the report).
        return {key: KpiFigures.model_validate(self._figures(key)) for key in keys}

    def _figures(self, key: Key) -> Fields:
        """The fields of the key's KpiFigures, as plain values (see figures)."""
        cycles = self.cycles.get(key, {})
        cycle = {name: durations(cycles.get(name)) for name in TRANSITION_NAMES}
        receipts_due, returned = self.receipts.get(key, (0, 0))
        fu = self.follow_ups.get(key, {})
        fu_due = fu.get("due", 0)
        cd = self.complaint_durations.get(key, {})
        return {
            **otif_rates(self.outcomes.get(key, NO_OUTCOMES)), "cycle_times": cycle,
            "receipt_return": rate_fields(returned, receipts_due),
            "receipt_cycle": cycle["delivered_to_receipt_archived"],
            "follow_up": rate_fields(fu.get("attempted", 0), fu_due),
            "successful_follow_up": rate_fields(fu.get("answered", 0), fu_due),
            "satisfaction": {q: score_fields(c)
                             for q, c in sorted(self.scores.get(key, {}).items())},
            "escalations": escalation_fields(self.esc_counts.get(key, []),
                                             self.esc_durations.get(key, {})),
            "complaints": {
                "opened": self.complaints.get(key, 0),
                "time_to_first_reply": durations(cd.get("time_to_first_reply")),
                "time_to_resolution": durations(cd.get("time_to_resolution")),
                "satisfaction": score_fields(self.complaint_scores.get(key, {}))},
            "claims": claim_fields(self.claims.get(key, []))}


def sort_key(key: Key) -> tuple[Any, ...]:
    """The order groups are listed in, by their keys' values."""
    return tuple((v is None, v or "") for v in key)  # a missing key (no carrier yet) last


def window_of(from_: datetime, to: datetime, as_of: datetime | None
            ) -> tuple[Window, datetime]:
    """The window [from_, min(to, as_of)) in UTC, and as_of (default now): what is counted."""
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    from_, to = from_.astimezone(UTC), to.astimezone(UTC)
    return Window(from_, max(from_, min(to, as_of))), as_of


def compute_kpis(session: Session, query: KpiQuery, tz: ZoneInfo | str = "UTC") -> KpiReport:
    """Every KPI over the query's period, in total and per group of `query.group_by`.

    `tz` is only recorded in the report (the period is already in UTC).
    """
    w, as_of = window_of(query.from_, query.to, query.as_of)
    group_by = list(query.group_by)
    prepare_report(session)
    # Read once, per group; the total is the groups merged (not a second pass over the data).
    raw = _Raw.read(session, w, group_by)
    total = (raw.total() if group_by else raw)._figures(())
    groups = []
    if group_by:
        by_key = raw.figures()
        groups = [{"key": dict(zip(group_by, key, strict=True)), "figures": by_key[key]}
                  for key in sorted(by_key, key=sort_key)]
    period = Period(from_=w.start, to=query.to.astimezone(UTC), as_of=as_of, timezone=str(tz))
    return KpiReport.model_validate({"period": period, "group_by": group_by, "total": total,
                                     "groups": groups})
