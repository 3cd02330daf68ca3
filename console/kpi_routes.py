"""/console/kpis: the KPI figures of a period (weeks back, or from/to days of the business zone),
optionally for one customer or tier, as server-drawn SVG charts each with its numbers in a
table one click away. Readers are the API's: operator, supervisor, auditor, admin."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from console import charts
from console import kpi_view as view
from console.deps import PageDep
from console.i18n import Viewer
from kpis import PeriodError
from kpis.models import SCORES, TRANSITIONS, KpiFigures, Rate
from kpis.periods import zone

log = logging.getLogger("waybill.console.kpis")
router = APIRouter()
FUNNEL = ("due", "attempted", "answered")


def percent(rate: Rate) -> str:
    return "-" if rate.rate is None else f"{rate.rate * 100:.1f}%"


def funnel(f: KpiFigures) -> list[tuple[str, int]]:
    return list(zip(FUNNEL, (f.follow_up.denominator, f.follow_up.numerator,
                             f.successful_follow_up.numerator), strict=True))


def transitions(v: Viewer) -> list[tuple[str, str]]:
    return [(f"{a}_to_{b}", v.t("kpi.transition", a=v.code("stage", a), b=v.code("stage", b)))
            for a, b in TRANSITIONS]


def _charts(v: Viewer, page: view.KpiPage) -> dict[str, Any]:
    t, f, empty = v.t, page.figures, v.t("kpi.empty")
    weeks = page.weeks
    trend = charts.trend(t("kpi.trend_title"), [d.strftime("%m-%d") for d, _, _ in weeks], [
        charts.Series(t("kpi.rate.otif"), [r.rate for _, r, _ in weeks],
                      [percent(r) for _, r, _ in weeks]),
        charts.Series(t("kpi.rate.on_time"), [r.rate for _, _, r in weeks],
                      [percent(r) for _, _, r in weeks])], empty)
    cycle = []
    for name, label in transitions(v):
        d = f.cycle_times[name]
        if d.count:
            for n, stat in enumerate(("p50", "p90", "max")):
                seconds = getattr(d, stat) or 0
                cycle.append(charts.Bar(label if n == 0 else "", seconds,
                                        f"{t('kpi.' + stat)} {v.duration(seconds)}", n))
    esc = f.escalations
    by_stage = [charts.Bar(v.code("stage", k), n, str(n)) for k, n in esc.by_stage.items()]
    by_level = [charts.Bar(t("esc.level_n", level=k), n, str(n))
                for k, n in esc.by_level.items()]
    steps = funnel(f)
    due = steps[0][1]
    fun = [charts.Bar(t("kpi." + k), n, f"{n} ({n * 100 // due}%)" if due else str(n), i)
           for i, (k, n) in enumerate(steps)] if due else []
    sat = []
    for question, scores in f.satisfaction.items():
        if scores.count:
            for n, score in enumerate(reversed(SCORES)):
                answers = scores.distribution.get(str(score), 0)
                label = t("kpi.sat_label", question=question, mean=f"{scores.mean:.2f}",
                          count=scores.count) if n == 0 else ""
                sat.append(charts.Bar(label, answers,
                                      t("kpi.score_count", score=score, n=answers), n % 2))
    return {
        "trend": trend,
        "cycle": charts.bars(t("kpi.cycle_title"), cycle, empty),
        "esc_stage": charts.bars(t("kpi.esc_stage_title"), by_stage, empty),
        "esc_level": charts.bars(t("kpi.esc_level_title"), by_level, empty),
        "funnel": charts.bars(t("kpi.funnel_title"), fun, empty),
        "satisfaction": charts.bars(t("kpi.sat_title"), sat, empty),
    }


def _render(page_dep: Any, session: Session, weeks: str, start: str, end: str, customer: str,
            tier: str) -> Response:
    settings = page_dep.settings
    tz = zone(settings.business_timezone)
    now = datetime.now(UTC)
    form = {"weeks": weeks, "from": start, "to": end, "customer": customer, "tier": tier}
    want = {k: val for k, val in (("customer", customer), ("tier", tier)) if val}
    try:
        if tier and tier not in view.TIERS:
            raise PeriodError("invalid_tier", "unknown tier")
        first, last, n = view.period(weeks, start, end, tz, now)
    except PeriodError as err:
        return page_dep.render("kpis.html", status=422, error=f"kpi.error.{err.code}", form=form,
                               result=None, tiers=view.TIERS, max_weeks=view.MAX_WEEKS,
                               business_zone=settings.business_timezone)
    result = view.build(session, first, last, want, tz, now)
    log.info("console kpis", extra={"weeks": n, "buckets": len(result.weeks),
                                    "grouped": sorted(want)})
    f = result.figures
    return page_dep.render(
        "kpis.html", error=None, form=form, result=result, f=f, tiers=view.TIERS,
        max_weeks=view.MAX_WEEKS, business_zone=settings.business_timezone,
        charts=_charts(page_dep.viewer, result), percent=percent, funnel=funnel(f),
        transitions=transitions(page_dep.viewer),
        rates=[(k, getattr(f, k)) for k in ("otif", "on_time", "in_full", "receipt_return",
                                            "follow_up", "successful_follow_up")])


@router.get("/kpis")
def kpis_page(page: PageDep, session: SessionDep,
              weeks: Annotated[str, Query(max_length=4)] = "",
              start: Annotated[str, Query(alias="from", max_length=40)] = "",
              end: Annotated[str, Query(alias="to", max_length=40)] = "",
              customer: Annotated[str, Query(max_length=64)] = "",
              tier: Annotated[str, Query(max_length=32)] = "") -> Response:
    page.allow("kpis")
    return _render(page, session, weeks.strip(), start.strip(), end.strip(), customer.strip(),
                   tier.strip())
