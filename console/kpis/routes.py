"""/console/kpis: the KPI figures of a period (weeks back, or from/to days of the business zone),
optionally for one customer or tier, as server-drawn SVG charts each with its numbers in a
table one click away, and the same figures as CSV or XLSX (/console/kpis.csv, .xlsx: the
layout of kpis/export.py, with the trend's weeks added). Readers are the API's: operator,
supervisor, auditor, admin."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.documents.downloads import table_download
from console.deps import PageDep
from console.i18n import Viewer
from console.kpis import charts, view
from kpis import PeriodError, export
from kpis.models import SCORES, TRANSITIONS, KpiFigures, Rate, Scores
from kpis.periods import zone
from kpis.report_words import in_survey_order
from workflows.order.types import Stage

log = logging.getLogger("waybill.console.kpis")
router = APIRouter()
FUNNEL = ("due", "attempted", "answered")
# Fills of the satisfaction bars: good (4-5), middling (3), poor (1-2); the score is also
# written beside every bar, so the colour only helps the eye.
# The console's files: a session's figures, not for a shared cache, and never sniffed as HTML.
DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
SCORE_SERIES = {5: 0, 4: 0, 3: 2, 2: 1, 1: 1}


def percent(rate: Rate) -> str:
    return "-" if rate.rate is None else f"{rate.rate * 100:.1f}%"


def funnel(f: KpiFigures) -> list[tuple[str, int]]:
    return list(zip(FUNNEL, (f.follow_up.denominator, f.follow_up.numerator,
                             f.successful_follow_up.numerator), strict=True))


def esc_stages(f: KpiFigures) -> list[tuple[str, int]]:
    """Escalations per stage in the order an order goes through them, not as stored."""
    path = {stage.value: i for i, stage in enumerate(Stage)}
    return sorted(f.escalations.by_stage.items(), key=lambda kv: (path.get(kv[0], 99), kv[0]))


def esc_levels(f: KpiFigures) -> list[tuple[str, int]]:
    return sorted(f.escalations.by_level.items(),
                  key=lambda kv: (int(kv[0]) if kv[0].isdigit() else 99, kv[0]))


def questions(f: KpiFigures) -> list[tuple[str, Scores]]:
    """Survey questions in the survey's order; any other (older surveys) after them."""
    return in_survey_order(f.satisfaction)


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
                      [percent(r) for _, _, r in weeks])], empty, t("kpi.week_axis"))
    cycle = []
    for name, label in transitions(v):
        d = f.cycle_times[name]
        if d.count:
            for n, stat in enumerate(("p50", "p90", "max")):
                seconds = getattr(d, stat) or 0
                cycle.append(charts.Bar(label if n == 0 else "", seconds,
                                        f"{t('kpi.' + stat)} {v.duration(seconds)}", n))
    by_stage = [charts.Bar(v.code("stage", k), n, str(n)) for k, n in esc_stages(f)]
    by_level = [charts.Bar(t("esc.level_n", level=k), n, str(n)) for k, n in esc_levels(f)]
    steps = funnel(f)
    due = steps[0][1]
    fun = [charts.Bar(t("kpi." + k), n, f"{n} ({n * 100 // due}%)" if due else str(n), i)
           for i, (k, n) in enumerate(steps)] if due else []
    sat = []
    for question, scores in questions(f):
        if scores.count:
            # 1 to 5, as the survey asks and every table lists them (issue 18 §6: one order)
            for n, score in enumerate(SCORES):
                answers = scores.distribution.get(str(score), 0)
                label = t("kpi.sat_label", question=v.code("order.question", question),
                          mean=f"{scores.mean:.2f}", count=scores.count) if n == 0 else ""
                sat.append(charts.Bar(label, answers,
                                      t("kpi.score_count", score=score, n=answers),
                                      SCORE_SERIES[score]))
    return {
        "trend": trend,
        "cycle": charts.bars(t("kpi.cycle_title"), cycle, empty),
        "esc_stage": charts.bars(t("kpi.esc_stage_title"), by_stage, empty),
        "esc_level": charts.bars(t("kpi.esc_level_title"), by_level, empty),
        "funnel": charts.bars(t("kpi.funnel_title"), fun, empty),
        "satisfaction": charts.bars(t("kpi.sat_title"), sat, empty),
    }


class _Asked:
    """The page's query, checked: the group wanted and the period."""

    def __init__(self, page_dep: Any, weeks: str, start: str, end: str, customer: str,
                 tier: str) -> None:
        self.tz = zone(page_dep.settings.business_timezone)
        self.now = datetime.now(UTC)
        self.want = {k: val for k, val in (("customer", customer), ("tier", tier)) if val}
        if tier and tier not in view.TIERS:
            raise PeriodError("invalid_tier", "unknown tier")
        self.first, self.last, self.weeks = view.period(weeks, start, end, self.tz, self.now)


def _refused(page_dep: Any, err: PeriodError, form: dict[str, str]) -> Response:
    return page_dep.render("kpis.html", status=422, error=f"kpi.error.{err.code}", form=form,
                           result=None, tiers=view.TIERS, max_weeks=view.MAX_WEEKS,
                           business_zone=page_dep.settings.business_timezone)


def _downloads(result: view.KpiPage, want: dict[str, str]) -> dict[str, str]:
    """Links to the files of exactly what the page shows: its days (not "weeks back", which
    moves on when a new week starts), its group, and its as-of instant."""
    query = urlencode({"from": result.first_day.isoformat(), "to": result.last_day.isoformat(),
                       **want, "as_of": result.as_of.isoformat()})
    return {fmt: f"/console/kpis.{fmt}?{query}" for fmt in ("csv", "xlsx")}


def _render(page_dep: Any, session: Session, weeks: str, start: str, end: str, customer: str,
            tier: str) -> Response:
    form = {"weeks": weeks, "from": start, "to": end, "customer": customer, "tier": tier}
    try:
        asked = _Asked(page_dep, weeks, start, end, customer, tier)
    except PeriodError as err:
        return _refused(page_dep, err, form)
    result = view.build(session, asked.first, asked.last, asked.want, asked.tz, asked.now)
    log.info("console kpis", extra={"weeks": asked.weeks, "buckets": len(result.weeks),
                                    "grouped": sorted(asked.want)})
    f = result.figures
    return page_dep.render(
        "kpis.html", error=None, form=form, result=result, f=f, tiers=view.TIERS,
        max_weeks=view.MAX_WEEKS, business_zone=page_dep.settings.business_timezone,
        charts=_charts(page_dep.viewer, result), percent=percent, funnel=funnel(f),
        transitions=transitions(page_dep.viewer), esc_stages=esc_stages(f),
        esc_levels=esc_levels(f), questions=questions(f), downloads=_downloads(result, asked.want),
        rates=[(k, getattr(f, k)) for k in ("otif", "on_time", "in_full", "receipt_return",
                                            "follow_up", "successful_follow_up")])


def as_of_param(value: str, now: datetime) -> datetime:
    """The instant the page's figures were taken at; never later than now."""
    if not value:
        return now
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise PeriodError("invalid_as_of", "as_of must be an ISO 8601 date-time") from exc
    if moment.tzinfo is None:
        raise PeriodError("invalid_as_of", "as_of needs its UTC offset")
    return min(moment.astimezone(UTC), now)


def export_table(result: view.KpiPage, want: dict[str, str], zone_name: str
                 ) -> tuple[list[str], list[dict[str, Any]]]:
    """The page's figures in kpis.export's flat layout: the period, then its figures (scope
    `total`, or `group` with the customer/tier asked for), then OTIF and on time per week
    (scope `week`, the week's first day as dimension), as the trend chart shows them."""
    keys = sorted(want)
    scope = "group" if want else "total"
    period = {"from": result.start.isoformat(), "to": result.end.isoformat(),
              "as_of": result.as_of.isoformat(), "timezone": zone_name}
    rows: list[dict[str, Any]] = [{"scope": "period", **dict.fromkeys(keys), "metric": k,
                                   "dimension": val} for k, val in period.items()]
    rows += [{"scope": scope, **want, **r}
             for r in export.kpi_rows(result.figures.model_dump(mode="json"))]
    for day, otif, on_time in result.weeks:
        for name, r in (("otif", otif), ("on_time", on_time)):
            rows.append({"scope": "week", **want, "metric": name, "dimension": day.isoformat(),
                         "bucket": None, **r.model_dump(mode="json")})
    return ["scope", *keys, "metric", "dimension", "bucket", *export.VALUE_COLUMNS], rows


def column_names(v: Viewer, columns: list[str]) -> list[str]:
    """A download's header in the page's language (issue 18 §6), as the audit CSV's is; the
    cells keep their codes, for whoever reads the file by program."""
    return [v.code("download.col", c) for c in columns]


def _file_name(result: view.KpiPage, want: dict[str, str]) -> str:
    # Customer ids are typed in; only safe characters reach the Content-Disposition header.
    parts = ["kpis", result.first_day.isoformat(), result.last_day.isoformat(),
             *(re.sub(r"[^A-Za-z0-9_-]", "_", want[k]) for k in sorted(want))]
    return "_".join(parts)


def _download(page_dep: Any, session: Session, fmt: str, start: str, end: str, customer: str,
              tier: str, weeks: str, as_of: str) -> Response:
    form = {"weeks": weeks, "from": start, "to": end, "customer": customer, "tier": tier}
    try:
        asked = _Asked(page_dep, weeks, start, end, customer, tier)
        taken = as_of_param(as_of, asked.now)
    except PeriodError as err:
        return _refused(page_dep, err, form)
    result = view.build(session, asked.first, asked.last, asked.want, asked.tz, taken)
    columns, rows = export_table(result, asked.want, page_dep.settings.business_timezone)
    log.info("console kpis download", extra={"format": fmt, "rows": len(rows),
                                             "grouped": sorted(asked.want)})
    return table_download(columns, rows, fmt, _file_name(result, asked.want), "kpis",
                          DOWNLOAD_HEADERS, column_names(page_dep.viewer, columns))


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


def _file_route(fmt: str) -> None:
    @router.get(f"/kpis.{fmt}", name=f"kpis_{fmt}")
    def kpis_file(page: PageDep, session: SessionDep,
                  weeks: Annotated[str, Query(max_length=4)] = "",
                  start: Annotated[str, Query(alias="from", max_length=40)] = "",
                  end: Annotated[str, Query(alias="to", max_length=40)] = "",
                  customer: Annotated[str, Query(max_length=64)] = "",
                  tier: Annotated[str, Query(max_length=32)] = "",
                  as_of: Annotated[str, Query(max_length=40)] = "") -> Response:
        # The API's ?format= needs an API key, which a console user's browser does not hold:
        # the same files, for the same readers as the page, by the session instead.
        page.allow("kpis")
        return _download(page, session, fmt, start.strip(), end.strip(), customer.strip(),
                         tier.strip(), weeks.strip(), as_of.strip())


for _fmt in ("csv", "xlsx"):
    _file_route(_fmt)
