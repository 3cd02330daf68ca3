"""/console/reports/follow-up-monthly: the monthly follow-up report (回访月报) of one month as a
manager reads it, with the month's CSV and XLSX (.csv, .xlsx beside it: kpis/export.py's layout,
the customers' names added). The KPI page's readers: operator, supervisor, auditor, admin."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.deps import SessionDep
from api.documents.downloads import table_download
from console.deps import PageDep
from console.i18n import Viewer
from console.kpis import charts
from console.kpis.routes import DOWNLOAD_HEADERS, SCORE_SERIES, as_of_param, column_names
from console.reports import view
from kpis import PeriodError, export
from kpis.models import SCORES
from kpis.periods import previous_month, zone
from kpis.report_words import in_survey_order, late_lines

log = logging.getLogger("waybill.console.reports")
router = APIRouter()
PATH = "/reports/follow-up-monthly"
OUTCOMES = ("answered", "refused", "expired", "open")  # how a follow-up ends, in that order
TOP_PROBLEMS = 3  # per customer or tier: the whole list is the total's


def percent(rate: dict[str, Any]) -> str:
    return "-" if rate.get("rate") is None else f"{rate['rate'] * 100:.1f}%"


def mean(scores: dict[str, Any]) -> str:
    return "-" if scores.get("mean") is None else f"{scores['mean']:.2f}"


def problem(v: Viewer, code: str) -> str:
    """A problem code in words: `low_score:<question>` names the question; a code this page
    does not know yet is shown as sent."""
    kind, _, question = code.partition(":")
    if kind == "low_score" and question:
        return v.t("fur.problem.low_score", question=v.code("order.question", question))
    return v.code("fur.problem", code)


def outcomes(figures: dict[str, Any]) -> list[tuple[str, int]]:
    """Every known outcome, none left out for being 0; a new one after them."""
    got = figures["outcomes"]
    return [(k, got.get(k, 0)) for k in OUTCOMES] + sorted(
        (k, n) for k, n in got.items() if k not in OUTCOMES)


def satisfaction_chart(v: Viewer, figures: dict[str, Any]) -> Markup:
    t, bars = v.t, []
    for question, scores in in_survey_order(figures["satisfaction"]):
        if scores["count"]:
            for n, score in enumerate(SCORES):  # 1 to 5, as everywhere (console/kpis/routes.py)
                answers = scores["distribution"].get(str(score), 0)
                label = t("kpi.sat_label", question=v.code("order.question", question),
                          mean=mean(scores), count=scores["count"]) if n == 0 else ""
                bars.append(charts.Bar(label, answers, t("kpi.score_count", score=score,
                                                         n=answers), SCORE_SERIES[score]))
    return charts.bars(t("kpi.sat_title"), bars, t("fur.empty"))


def late_changes(page: view.ReportPage, locale: str) -> list[str]:
    """What late events changed, one line per figure as the monthly message words it (a rate
    once, not again for its numerator and denominator), so the page and the message agree."""
    return [line for _, line in late_lines(page.late, locale)]


def export_table(page: view.ReportPage) -> tuple[list[str], list[dict[str, Any]]]:
    """kpis.export's follow-up layout, plus what the page says besides: each customer's name,
    and (scope `period`) when the figures were first reported and how many have changed."""
    columns, rows = export.follow_up_table(page.body)
    columns.insert(columns.index("customer") + 1, "customer_name")
    for row in rows:
        if row["scope"] == "customer":
            row["customer_name"] = page.names.get(row["customer"])
    extra = {"first_reported_at": page.reported_at.isoformat() if page.reported_at else None,
             "late_figures_changed": len(late_changes(page, "en")) if page.reported_at
             else None}
    last = max(i for i, row in enumerate(rows) if row["scope"] == "period")
    rows[last + 1:last + 1] = [{"scope": "period", "metric": k, "dimension": val}
                               for k, val in extra.items()]
    return columns, rows


def _downloads(page: view.ReportPage) -> dict[str, str]:
    # A stored report is the same whenever the link is followed; a live one is pinned to the
    # instant the page took it at.
    query = {"month": page.month} | ({} if page.reported_at else
                                     {"as_of": page.as_of.isoformat()})
    return {fmt: f"/console{PATH}.{fmt}?{urlencode(query)}" for fmt in ("csv", "xlsx")}


def _months(month: str, now: datetime, tz: Any) -> dict[str, str | None]:
    current = now.astimezone(tz).strftime("%Y-%m")
    following = view.shift(month, 1)
    return {"prev": view.shift(month, -1), "next": following if following <= current else None}


def _refused(page_dep: Any, err: PeriodError, month: str) -> Response:
    return page_dep.render("follow_up_report.html", status=422, error=f"fur.error.{err.code}",
                           month=month, report=None,
                           business_zone=page_dep.settings.business_timezone)


def _groups(v: Viewer, page: view.ReportPage, scope: str) -> list[dict[str, Any]]:
    out = []
    for group in page.body[scope]:
        f = group["figures"]
        out.append({"key": group["key"], "name": page.names.get(group["key"]), "f": f,
                    "problems": [(problem(v, p["label"]), p["count"])
                                 for p in f["problems"][:TOP_PROBLEMS]]})
    return out


def _render(page_dep: Any, session: Session, month: str) -> Response:
    tz = zone(page_dep.settings.business_timezone)
    now = datetime.now(UTC)
    month = month or previous_month(now, tz)
    try:
        view.check(month, tz)
    except PeriodError as err:
        return _refused(page_dep, err, month)
    page = view.build(session, month, tz, now)
    v, f = page_dep.viewer, page.body["total"]
    log.info("console follow-up report", extra={"month": month, "stored": bool(page.reported_at),
                                                "late_figures": len(page.late)})
    return page_dep.render(
        "follow_up_report.html", error=None, month=month, report=page, f=f,
        business_zone=page_dep.settings.business_timezone, months=_months(month, now, tz),
        percent=percent, mean=mean, outcomes=outcomes(f),
        questions=in_survey_order(f["satisfaction"]),
        sat_chart=satisfaction_chart(v, f), downloads=_downloads(page),
        problems=[(problem(v, p["label"]), p["count"]) for p in f["problems"]],
        late=late_changes(page, v.locale),
        customers=_groups(v, page, "by_customer"), tiers=_groups(v, page, "by_tier"))


@router.get(PATH)
def follow_up_report_page(page: PageDep, session: SessionDep,
                          month: Annotated[str, Query(max_length=16)] = "") -> Response:
    page.allow("kpis")
    return _render(page, session, month.strip())


def _download(page_dep: Any, session: Session, fmt: str, month: str, as_of: str) -> Response:
    tz = zone(page_dep.settings.business_timezone)
    now = datetime.now(UTC)
    try:
        view.check(month, tz)
        taken = as_of_param(as_of, now) if as_of else None
    except PeriodError as err:
        return _refused(page_dep, err, month)
    columns, rows = export_table(view.build(session, month, tz, now, taken))
    log.info("console follow-up report download", extra={"format": fmt, "rows": len(rows)})
    return table_download(columns, rows, fmt, f"follow-up-monthly_{month}", "follow_up_monthly",
                          DOWNLOAD_HEADERS, column_names(page_dep.viewer, columns))


def _file_route(fmt: str) -> None:
    @router.get(f"{PATH}.{fmt}", name=f"follow_up_report_{fmt}")
    def follow_up_report_file(page: PageDep, session: SessionDep,
                              month: Annotated[str, Query(max_length=16)] = "",
                              as_of: Annotated[str, Query(max_length=40)] = "") -> Response:
        page.allow("kpis")
        return _download(page, session, fmt, month.strip(), as_of.strip())


for _fmt in ("csv", "xlsx"):
    _file_route(_fmt)
