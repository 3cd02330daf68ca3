"""KPIs over HTTP: roles, bad input, JSON/CSV/XLSX that agree, and real workflows' figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.support import kpi_fixtures as fx
from tests.support.api_harness import Api, StackFactory, created, error_code
from tests.support.builders import FULL_PICK, POD, SHIP
from tests.support.kpi_fixtures import rate
from tests.support.polling import eventually

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30", "as_of": "2026-12-10T00:00:00Z"}


# Every test reads the same seeded month and writes nothing: one stack per module and engine.
pytestmark = pytest.mark.shared_stack


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    """The API over the hand-computed month of tests/support/kpi_fixtures.py; no worker needed."""
    return {"seed": fx.november, "worker": False}


async def get(api: Api, path: str, role: str = "auditor", accept: str | None = None,
              **params: Any) -> Any:
    headers = api.auth(role) | ({"Accept": accept} if accept else {})
    return await api.http.get(path, headers=headers, params=params)


async def test_readers_and_integrations(api: Api) -> None:
    for role in ("operator", "supervisor", "auditor", "admin"):
        resp = await get(api, "/v1/kpis", role, **NOVEMBER)
        assert resp.status_code == 200, resp.text
        assert resp.json()["total"]["otif"] == rate(4, 7)  # see tests/kpis/test_compute.py
    for path, params in (("/v1/kpis", NOVEMBER), ("/v1/reports/follow-up-monthly",
                                                  {"month": "2026-11"})):
        denied = await get(api, path, "integration", **params)
        assert denied.status_code == 403 and error_code(denied) == "forbidden"
        anonymous = await api.http.get(path, params=params)
        assert anonymous.status_code == 401


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"from": "2026-11-30", "to": "2026-11-01"}, 422, "invalid_range"),
    ({"from": "2025-01-01", "to": "2026-11-30"}, 422, "range_too_long"),
    ({"from": "2026-11-01", "to": "30/11/2026"}, 422, "invalid_date"),
    ({"from": "2026-11-01", "to": "2026-11-30", "group_by": "customer,warehouse"}, 422,
     "unknown_group_by"),
    ({"from": "2026-11-01", "to": "2026-11-30", "group_by": "tier,tier"}, 422,
     "unknown_group_by"),
    ({"from": "2026-11-01", "to": "2026-11-30", "as_of": "soon"}, 422, "invalid_date"),
    ({"from": "2026-11-01", "to": "2026-11-30", "format": "pdf"}, 400, "unsupported_format"),
    ({"to": "2026-11-30"}, 422, "validation_error"),
])
async def test_bad_kpi_queries_are_refused_with_a_code(api: Api, params: dict[str, str],
                                                       status: int, code: str) -> None:
    resp = await get(api, "/v1/kpis", **params)
    assert resp.status_code == status, resp.text
    assert error_code(resp) == code


async def test_bad_report_queries_are_refused_with_a_code(api: Api) -> None:
    for month in ("2026-13", "2026/11", "Nov"):
        resp = await get(api, "/v1/reports/follow-up-monthly", month=month)
        assert resp.status_code == 422 and error_code(resp) == "invalid_month", resp.text
    missing = await get(api, "/v1/reports/follow-up-monthly")
    assert missing.status_code == 422 and error_code(missing) == "validation_error"
    pdf = await get(api, "/v1/reports/follow-up-monthly", accept="application/pdf",
                    month="2026-11")
    assert pdf.status_code == 406 and error_code(pdf) == "not_acceptable"


async def test_month_is_the_business_zones_month(api: Api) -> None:
    report = (await get(api, "/v1/reports/follow-up-monthly", month="2026-11",
                        as_of="2026-12-10T00:00:00Z")).json()
    assert report["period"]["from"] == "2026-10-31T16:00:00Z"
    assert report["period"]["to"] == "2026-11-30T16:00:00Z"
    assert report["period"]["timezone"] == "Asia/Shanghai"
    assert (report["total"]["due"], report["total"]["answered"]) == (6, 4)
    kpis = (await get(api, "/v1/kpis", **NOVEMBER)).json()
    assert (kpis["period"]["from"], kpis["period"]["to"]) == (
        "2026-10-31T16:00:00Z", "2026-11-30T16:00:00Z")


# -- exports -----------------------------------------------------------------------------------

def _figure(figures: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The JSON figure a KPI export row stands for, looked up independently of the export."""
    metric, dim, bucket = row["metric"], row["dimension"], row["bucket"]
    if metric == "cycle_time":
        return figures["cycle_times"][dim]
    if metric in ("satisfaction", "satisfaction.distribution"):
        scores = figures["satisfaction"][dim]
        return {"count": scores["distribution"][bucket]} if bucket else scores
    section, _, rest = metric.partition(".")
    if not rest:
        return figures[metric]
    node = figures[section]
    if rest in ("opened",):
        return {"count": node["opened"]}
    if rest in ("by_level", "by_stage", "by_kind"):
        return {"count": node[rest][dim]}
    if rest == "amount":
        return next(a for a in node["amounts"] if a["currency"] == row["currency"])
    if rest in ("by_liability", "by_cause"):
        return {"count": node[rest][dim]["count"]}
    if rest.endswith(".amount"):
        return next(a for a in node[rest.split(".")[0]][dim]["amounts"]
                    if a["currency"] == row["currency"])
    if rest == "satisfaction.distribution":
        return {"count": node["satisfaction"]["distribution"][bucket]}
    return node[rest]


def _follow_up_figure(figures: dict[str, Any], metric: str, dim: Any,
                      bucket: Any) -> dict[str, Any]:
    if metric in ("due", "attempted", "answered"):
        return {"count": figures[metric]}
    if metric == "outcomes":
        return {"count": figures["outcomes"][dim]}
    if metric in ("problems", "suggestions"):
        return next(c for c in figures[metric] if c["label"] == dim)
    if metric.startswith("overall_satisfaction"):
        scores = figures["overall_satisfaction"]
    elif metric.startswith("satisfaction"):
        scores = figures["satisfaction"][dim]
    else:
        return figures[metric]
    return {"count": scores["distribution"][bucket]} if bucket else scores


def _csv_rows(body: bytes) -> list[dict[str, Any]]:
    text = body.decode("utf-8-sig")
    return [{k: (v if v != "" else None) for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text))]


def _xlsx_rows(body: bytes) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return [dict(zip(header, row, strict=True)) for row in rows]


VALUES = ("numerator", "denominator", "rate", "count", "sum", "mean", "p50", "p90", "max",
          "currency", "amount_minor")


def _check_rows(rows: list[dict[str, Any]], figure_of: Any, as_text: bool) -> int:
    """Every value of every row equals its JSON figure's; returns how many values matched."""
    matched = 0
    for row in rows:
        expected = figure_of(row)
        for column in VALUES:
            if column not in expected:
                assert row[column] is None, (row, column)
                continue
            want = expected[column]
            got = row[column]
            if as_text:
                want = None if want is None else str(want)
            assert got == want, (row, column, expected)
            matched += 1
    return matched


async def test_kpi_csv_and_xlsx_match_the_json(api: Api) -> None:
    params = {**NOVEMBER, "group_by": "customer,tier"}
    body = (await get(api, "/v1/kpis", **params)).json()
    as_csv = await get(api, "/v1/kpis", accept="text/csv", **params)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="kpis_2026-11-01_2026-11-30.csv"' in as_csv.headers["content-disposition"]
    as_xlsx = await get(api, "/v1/kpis", accept="text/html", format="xlsx", **params)
    assert as_xlsx.headers["content-type"] == XLSX

    def figure_of(row: dict[str, Any]) -> dict[str, Any]:
        if row["scope"] == "total":
            figures = body["total"]
        else:
            key = {"customer": row["customer"], "tier": row["tier"]}
            figures = next(g["figures"] for g in body["groups"] if g["key"] == key)
        return _figure(figures, row)

    for rows, as_text in ((_csv_rows(as_csv.content), True),
                          (_xlsx_rows(as_xlsx.content), False)):
        period = {r["metric"]: r["dimension"] for r in rows if r["scope"] == "period"}
        assert period["from"] == body["period"]["from"] == "2026-10-31T16:00:00Z"
        figures = [r for r in rows if r["scope"] != "period"]
        assert _check_rows(figures, figure_of, as_text) > 400  # 4 scopes of ~100 values
        scopes = {(r["scope"], r["customer"], r["tier"]) for r in figures}
        assert scopes == {("total", None, None), ("group", "C-A", "standard"),
                          ("group", "C-B", "key_account"), ("group", "C-C", "standard")}
        # Every transition, question and score bucket of the total is there.
        total = [r for r in figures if r["scope"] == "total"]
        assert {r["dimension"] for r in total if r["metric"] == "cycle_time"} == set(
            body["total"]["cycle_times"])
        assert sum(1 for r in total if r["metric"] == "satisfaction.distribution") == 10
    otif = next(r for r in _csv_rows(as_csv.content)
                if r["scope"] == "total" and r["metric"] == "otif")
    assert (otif["numerator"], otif["denominator"], otif["rate"]) == ("4", "7", "0.571429")


async def test_monthly_report_csv_and_xlsx_match_the_json(api: Api) -> None:
    params = {"month": "2026-11", "as_of": "2026-12-10T00:00:00Z"}
    path = "/v1/reports/follow-up-monthly"
    body = (await get(api, path, **params)).json()
    as_csv = await get(api, path, accept="text/csv;q=0.9, application/xml", **params)
    as_xlsx = await get(api, path, accept=f"{XLSX}, text/csv;q=0.5", **params)
    assert as_xlsx.headers["content-type"] == XLSX
    assert "follow-up-monthly_2026-11.xlsx" in as_xlsx.headers["content-disposition"]

    def figure_of(row: dict[str, Any]) -> dict[str, Any]:
        scope = row["scope"]
        figures = body["total"] if scope == "total" else next(
            g["figures"] for g in body[f"by_{scope}"] if g["key"] == row[scope])
        return _follow_up_figure(figures, row["metric"], row["dimension"], row["bucket"])

    for rows, as_text in ((_csv_rows(as_csv.content), True),
                          (_xlsx_rows(as_xlsx.content), False)):
        assert {r["metric"]: r["dimension"] for r in rows if r["scope"] == "period"}[
            "month"] == "2026-11"
        figures = [r for r in rows if r["scope"] != "period"]
        assert _check_rows(figures, figure_of, as_text) > 150
        suggestions = [r["dimension"] for r in figures
                       if r["scope"] == "total" and r["metric"] == "suggestions"]
        assert suggestions == ["call before delivery"]
        assert {(r["scope"], r["customer"] or r["tier"]) for r in figures} == {
            ("total", None), ("customer", "C-A"), ("customer", "C-B"), ("customer", "C-C"),
            ("tier", "standard"), ("tier", "key_account")}


# -- real workflows ----------------------------------------------------------------------------

async def test_a_moved_promise_and_an_agreed_partial_delivery_count_as_otif(
        make_stack: StackFactory, db_url: str) -> None:
    """Driven through the API and the order workflow: the KPIs read what the workflow decided."""
    async with make_stack(db_url) as api:
        now = datetime.now(UTC)
        # Promised an hour ago; the customer agreed to two hours from now before it shipped.
        moved = await created(api, ship_in_h=-2, deliver_in_h=-1)
        partial = await created(api)
        steps = {
            moved: [("promise_changed", {
                "promised_ship_by": (now + timedelta(hours=1)).isoformat(),
                "promised_delivery_by": (now + timedelta(hours=2)).isoformat(),
                "reason": "customer agreed to a later slot"}),
                ("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP), ("delivered", POD)],
            # One of the four SKU-2 is short; the customer takes the rest: 10 + 1 is in full.
            partial: [("stock_shortage", {"lines": [{"sku": "SKU-2", "qty": 1}]}),
                      ("shortage_decision", {"decision": "partial", "decided_by": "Ms Zhang",
                                             "lines": [{"sku": "SKU-2", "qty": 1}]}),
                      ("confirmed", {}),
                      ("picked", {"lines": [{"sku": "SKU-1", "qty": 10},
                                            {"sku": "SKU-2", "qty": 1}]}),
                      ("shipped", SHIP), ("delivered", POD)]}
        for order_id, events in steps.items():
            for type_, data in events:
                resp = await api.event(order_id, type_, data)
                assert resp.status_code == 200, resp.text
        zone = ZoneInfo(api.settings.business_timezone)
        later = now + timedelta(days=5)  # both promises have fallen due by then
        params = {"from": str((now.astimezone(zone) - timedelta(days=1)).date()),
                  "to": str(later.astimezone(zone).date()), "as_of": later.isoformat(),
                  "group_by": "carrier"}

        async def both_counted() -> dict[str, Any] | None:
            body = (await get(api, "/v1/kpis", **params)).json()
            return body if body["total"]["otif"]["denominator"] == 2 and \
                body["total"]["in_full"]["numerator"] == 2 else None

        body = await eventually(both_counted)
        assert body["total"]["otif"] == rate(2, 2)
        assert body["total"]["on_time"] == rate(2, 2)
        assert [g["key"] for g in body["groups"]] == [{"carrier": SHIP["carrier"]}]
        # The first promise (an hour ago) no longer counts: as at half an hour ago, neither
        # order's promise in force had fallen due.
        before = {**params, "as_of": (now - timedelta(minutes=30)).isoformat()}
        early = (await get(api, "/v1/kpis", **before)).json()
        assert early["total"]["otif"]["denominator"] == 0
