"""Assembling KPI figures from the repository's aggregates (db/kpis.py), per group and in total.

Definitions (each figure counts what fell in [from, min(to, as_of)), times in UTC):

* OTIF, on-time, in-full: orders whose promise in force (`orders.promised_delivery_by`, moved
  by promise_changed, a backorder decision or a delivery exception's new promise) fell due;
  cancelled orders excluded. On time: delivered no later than that promise (the workflow's
  `on_time`). In full: delivered, intact, every line at its agreed quantity (`in_full`). An
  order still in flight once its promise has passed counts as neither.
* Cycle times: per stage transition, the transitions that ended in the period.
* Receipt return: receipts whose deadline fell in the period, returned by that deadline;
  the receipt cycle is the delivered -> receipt_archived cycle time.
* Follow-ups: those that fell due in the period; attempted (invitation sent or a call made)
  and answered over due; satisfaction per question of the answered ones.
* Escalations and complaints and claims: opened in the period; their durations ended in it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db import kpis as repo
from kpis.models import (
    GROUP_KEYS,
    TRANSITIONS,
    Amount,
    Claims,
    ClaimSplit,
    Complaints,
    Count,
    Durations,
    Escalations,
    FollowUpFigures,
    FollowUpGroup,
    FollowUpReport,
    KpiFigures,
    KpiGroup,
    KpiReport,
    Period,
    Rate,
    Scores,
)
from kpis.periods import month_bounds

SUGGESTIONS_KEPT = 20
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


def _durations(row: repo.DurationRow | None) -> Durations:
    if row is None:
        return Durations()
    count, p50, p90, top = row
    return Durations(count=count, p50=p50, p90=p90, max=top)


def _amounts(by_currency: dict[str, int]) -> list[Amount]:
    return [Amount(currency=c, amount_minor=a) for c, a in sorted(by_currency.items())]


def _escalations(rows: list[tuple[int, str, str, int]],
                 durations: dict[str, repo.DurationRow]) -> Escalations:
    level: Counter[str] = Counter()
    stage: Counter[str] = Counter()
    kind: Counter[str] = Counter()
    for lvl, stg, knd, n in rows:
        level[str(lvl)] += n
        stage[stg] += n
        kind[knd] += n
    return Escalations(opened=sum(level.values()), by_level=dict(sorted(level.items())),
                       by_stage=dict(sorted(stage.items())), by_kind=dict(sorted(kind.items())),
                       time_to_acknowledge=_durations(durations.get("time_to_acknowledge")),
                       time_to_resolve=_durations(durations.get("time_to_resolve")))


def _claims(rows: list[tuple[str | None, str, str | None, int, int]]) -> Claims:
    total: Counter[str] = Counter()
    splits: dict[str, dict[str, tuple[Counter[str], Counter[str]]]] = {
        "liability": {}, "cause": {}}
    for liability, cause, currency, n, amount in rows:
        if currency is not None:
            total[currency] += amount
        for dim, value in (("liability", liability or "undecided"), ("cause", cause)):
            counts, money = splits[dim].setdefault(value, (Counter(), Counter()))
            counts["n"] += n
            if currency is not None:
                money[currency] += amount
    def split(dim: str) -> dict[str, ClaimSplit]:
        return {value: ClaimSplit(count=counts["n"], amounts=_amounts(dict(money)))
                for value, (counts, money) in sorted(splits[dim].items())}
    return Claims(opened=sum(n for *_, n, _a in rows), amounts=_amounts(dict(total)),
                  by_liability=split("liability"), by_cause=split("cause"))


def _pivot(data: dict[tuple[repo.Key, str], T]) -> dict[repo.Key, dict[str, T]]:
    out: dict[repo.Key, dict[str, T]] = {}
    for (key, metric), value in data.items():
        out.setdefault(key, {})[metric] = value
    return out


def _figures_by_key(session: Session, w: repo.Window, group_by: Sequence[str],
                    cycles: dict[repo.Key, dict[str, repo.DurationRow]]
                    ) -> dict[repo.Key, KpiFigures]:
    outcomes = repo.order_outcomes(session, w, group_by)
    receipts = repo.receipt_returns(session, w, group_by)
    follow_ups = repo.follow_up_counts(session, w, group_by)
    scores = repo.survey_scores(session, w, group_by)
    esc_counts = repo.escalation_counts(session, w, group_by)
    esc_durations = _pivot(repo.escalation_durations(session, w, group_by))
    complaints = repo.complaints_opened(session, w, group_by)
    complaint_durations = _pivot(repo.complaint_durations(session, w, group_by))
    complaint_scores = repo.complaint_scores(session, w, group_by)
    claims = repo.claim_totals(session, w, group_by)

    keys: set[repo.Key] = set()
    for source in (outcomes, cycles, receipts, follow_ups, scores, esc_counts, esc_durations,
                   complaints, complaint_durations, complaint_scores, claims):
        keys.update(source)
    if not group_by:
        keys.add(())
    out = {}
    for key in keys:
        due, on_time, in_full, otif = outcomes.get(key, (0, 0, 0, 0))
        cycle = {f"{a}_to_{b}": _durations(cycles.get(key, {}).get(f"{a}_to_{b}"))
                 for a, b in TRANSITIONS}
        receipts_due, returned = receipts.get(key, (0, 0))
        fu = follow_ups.get(key, {})
        cd = complaint_durations.get(key, {})
        out[key] = KpiFigures(
            otif=Rate.of(otif, due), on_time=Rate.of(on_time, due),
            in_full=Rate.of(in_full, due), cycle_times=cycle,
            receipt_return=Rate.of(returned, receipts_due),
            receipt_cycle=cycle["delivered_to_receipt_archived"],
            follow_up=Rate.of(fu.get("attempted", 0), fu.get("due", 0)),
            successful_follow_up=Rate.of(fu.get("answered", 0), fu.get("due", 0)),
            satisfaction={q: Scores.of(c) for q, c in sorted(scores.get(key, {}).items())},
            escalations=_escalations(esc_counts.get(key, []), esc_durations.get(key, {})),
            complaints=Complaints(
                opened=complaints.get(key, 0),
                time_to_first_reply=_durations(cd.get("time_to_first_reply")),
                time_to_resolution=_durations(cd.get("time_to_resolution")),
                satisfaction=Scores.of(complaint_scores.get(key, {}))),
            claims=_claims(claims.get(key, [])))
    return out


def _sort_key(key: repo.Key) -> tuple[Any, ...]:
    return tuple((v is None, v or "") for v in key)  # a missing key (no carrier yet) last


def _window(from_: datetime, to: datetime, as_of: datetime | None
            ) -> tuple[repo.Window, datetime]:
    as_of = (as_of or datetime.now(UTC)).astimezone(UTC)
    from_, to = from_.astimezone(UTC), to.astimezone(UTC)
    return repo.Window(from_, max(from_, min(to, as_of))), as_of


def compute_kpis(session: Session, query: KpiQuery, tz: ZoneInfo | str = "UTC") -> KpiReport:
    """Every KPI over the query's period, in total and per group of `query.group_by`.

    `tz` is only recorded in the report (the period is already in UTC).
    """
    w, as_of = _window(query.from_, query.to, query.as_of)
    group_by = list(query.group_by)
    repo.prepare_report(session)
    # The costliest figures, read once for the total and the groups together.
    cycles = _pivot(repo.cycle_times(session, w, group_by, TRANSITIONS, with_total=True))
    total = _figures_by_key(session, w, [], {(): cycles.pop((), {})})[()]
    groups = []
    if group_by:
        by_key = _figures_by_key(session, w, group_by, cycles)
        groups = [KpiGroup(key=dict(zip(group_by, key, strict=True)), figures=by_key[key])
                  for key in sorted(by_key, key=_sort_key)]
    period = Period(from_=w.start, to=query.to.astimezone(UTC), as_of=as_of, timezone=str(tz))
    return KpiReport(period=period, group_by=group_by, total=total, groups=groups)


# -- the monthly follow-up report (回访月报) -----------------------------------------------------

def _counts(counts: dict[str, int], keep: int | None = None) -> list[Count]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [Count(label=k, count=v) for k, v in ranked[:keep]]


def _follow_up_figures(session: Session, w: repo.Window, group_by: Sequence[str]
                       ) -> dict[repo.Key, FollowUpFigures]:
    counts = repo.follow_up_counts(session, w, group_by)
    scores = repo.survey_scores(session, w, group_by)
    problems = repo.survey_problems(session, w, group_by)
    suggestions = repo.survey_suggestions(session, w, group_by)
    keys = set(counts) | ({()} if not group_by else set())
    out = {}
    for key in keys:
        c = counts.get(key, {})
        due, attempted, answered = c.get("due", 0), c.get("attempted", 0), c.get("answered", 0)
        per_question = scores.get(key, {})
        overall: Counter[int] = Counter()
        for dist in per_question.values():
            overall.update(dist)
        out[key] = FollowUpFigures(
            due=due, attempted=attempted, answered=answered,
            follow_up_rate=Rate.of(attempted, due),
            successful_follow_up_rate=Rate.of(answered, due),
            outcomes={k.split(":", 1)[1]: v for k, v in sorted(c.items())
                      if k.startswith("outcome:")},
            overall_satisfaction=Scores.of(dict(overall)),
            satisfaction={q: Scores.of(d) for q, d in sorted(per_question.items())},
            problems=_counts(problems.get(key, {})),
            suggestions=_counts(suggestions.get(key, {}), SUGGESTIONS_KEPT))
    return out


def _groups(session: Session, w: repo.Window, key: str) -> list[FollowUpGroup]:
    figures = _follow_up_figures(session, w, [key])
    return [FollowUpGroup(key=str(k[0]), figures=figures[k])
            for k in sorted(figures, key=_sort_key)]


def follow_up_monthly(session: Session, month: str, tz: ZoneInfo,
                      as_of: datetime | None = None) -> FollowUpReport:
    """回访月报 of `month` (YYYY-MM) in zone `tz`: follow-ups that fell due that month, done and
    successful, satisfaction per question, recurring problems; in total, per customer, per tier.

    Raises:
        PeriodError: `month` is not YYYY-MM.
    """
    start, stop = month_bounds(month, tz)
    w, as_of = _window(start, stop, as_of)
    total = _follow_up_figures(session, w, [])[()]
    period = Period(from_=start, to=stop, as_of=as_of, timezone=str(tz))
    return FollowUpReport(month=month, period=period, total=total,
                          by_customer=_groups(session, w, "customer"),
                          by_tier=_groups(session, w, "tier"))

