"""The console's KPI page over HTTP: the numbers it shows are compute_kpis's for the same period
(the hand-computed month of tests/support/kpi_fixtures.py), in both languages, with a chart per
figure and its table; the same figures as CSV and XLSX files from links on the page; short durations
in seconds; who may read it, and bad periods refused with the reason."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from console.i18n import catalogue
from db.engine import make_engine, session_factory, transaction
from kpis import KpiQuery, compute_kpis
from kpis.periods import range_bounds
from tests.support import kpi_fixtures as fx
from tests.support.api_harness import Api
from tests.support.console_harness import sign_in
from tests.support.report_rows import csv_rows, row, same, xlsx_rows
from workflows.order.types import Tier

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"seed": fx.november, "worker": False}


def expected(api: Api, group_by: list[str] | None = None) -> dict:
    tz = ZoneInfo(api.settings.business_timezone)
    start, end = range_bounds(NOVEMBER["from"], NOVEMBER["to"], tz)
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        report = compute_kpis(session, KpiQuery(start, end, group_by or [],
                                                datetime.now(UTC)), tz).to_json()
    engine.dispose()
    return report


def pct(r: dict) -> str:
    return "-" if r["rate"] is None else f"{r['rate'] * 100:.1f}%"


async def test_the_page_shows_compute_kpis_numbers_in_both_languages(api: Api) -> None:
    http = api.http
    want = expected(api)["total"]
    assert want["otif"]["denominator"] > 0 and want["escalations"]["opened"] > 0
    for lang in ("en", "zh-CN"):
        words = catalogue(lang)
        await sign_in(http, api.keys["auditor"], lang)
        board = await http.get("/console/board")
        assert 'href="/console/kpis"' in board.text and words["kpi.nav"] in board.text
        page = await http.get("/console/kpis", params=NOVEMBER)
        assert page.status_code == 200, page.text
        html = page.text
        assert f'<html lang="{lang}">' in html and words["kpi.title"] in html
        assert words["kpi.shown"].split("{")[0] in html and "2026-11-01" in html
        assert "2026-11-30" in html and api.settings.business_timezone in html
        for key in ("otif", "on_time", "in_full", "receipt_return", "follow_up",
                    "successful_follow_up"):
            r = want[key]
            assert row(html, "rate", key)[1:4] == [pct(r), str(r["numerator"]),
                                                 str(r["denominator"])], key
            # what the denominator counts, beside it (issue 18 §6)
            assert row(html, "rate", key)[4] == words[f"kpi.denominator.{key}"].format(
                n=r["denominator"]), key
        for name, d in want["cycle_times"].items():
            cells = row(html, "transition", name)
            assert cells[1] == str(d["count"]), name
            for stat in ("p50", "p90", "max"):
                assert f'data-seconds="{d[stat] if d[stat] is not None else ""}"' in \
                    re.search(rf'<tr data-transition="{name}">.*?</tr>', html, re.S).group(0)
        esc = want["escalations"]
        for stage, n in esc["by_stage"].items():
            assert row(html, "stage", stage)[1] == str(n)
        for level, n in esc["by_level"].items():
            assert row(html, "level", level)[1] == str(n)
        fu, ok = want["follow_up"], want["successful_follow_up"]
        assert [row(html, "step", s)[1] for s in ("due", "attempted", "answered")] == [
            str(fu["denominator"]), str(fu["numerator"]), str(ok["numerator"])]
        assert want["satisfaction"]
        for question, sc in want["satisfaction"].items():
            cells = row(html, "question", question)
            assert cells[0] == words.get(f"order.question.{question}", question)
            assert cells[1:3] == [f"{sc['mean']:.2f}", str(sc["count"])]
            assert cells[3:] == [str(sc["distribution"][str(s)]) for s in range(1, 6)]
        # each chart an image named by its title, its numbers one click away
        assert html.count('role="img"') == 6 and html.count('<details class="numbers"') == 6
        assert words["kpi.trend_title"] in html and words["kpi.numbers"] in html
        other = catalogue("en" if lang == "zh-CN" else "zh-CN")
        assert other["kpi.funnel_title"] not in html


async def test_a_tier_shows_that_groups_numbers(api: Api) -> None:
    await sign_in(api.http, api.keys["operator"])
    page = await api.http.get("/console/kpis", params={**NOVEMBER, "tier": "key_account"})
    assert page.status_code == 200
    group = fx.fig(expected(api, ["tier"]), {"tier": "key_account"})
    assert group["otif"] != expected(api)["total"]["otif"]
    r = group["otif"]
    assert row(page.text, "rate", "otif")[1:4] == [pct(r), str(r["numerator"]),
                                                str(r["denominator"])]


async def test_weeks_back_trend_and_bad_periods(api: Api) -> None:
    await sign_in(api.http, api.keys["supervisor"])
    page = await api.http.get("/console/kpis", params={"weeks": "5"})
    assert page.status_code == 200
    assert page.text.count("<tr data-week=") == 5
    default = await api.http.get("/console/kpis")
    assert default.status_code == 200 and default.text.count("<tr data-week=") == 8
    for params, code in (({"weeks": "0"}, "invalid_weeks"), ({"weeks": "x"}, "invalid_weeks"),
                         ({"from": "2026-11-30", "to": "2026-11-01"}, "invalid_range"),
                         ({"from": "2026-11-01"}, "invalid_range"),
                         ({"from": "11/01/2026", "to": "2026-11-30"}, "invalid_date"),
                         ({"from": "2025-01-01", "to": "2026-11-30"}, "range_too_long"),
                         ({"tier": "gold"}, "invalid_tier")):
        bad = await api.http.get("/console/kpis", params=params)
        assert bad.status_code == 422, params
        assert catalogue("en")[f"kpi.error.{code}"] in bad.text, params


async def test_who_may_read_it(api: Api) -> None:
    http = api.http
    http.cookies.clear()
    away = await http.get("/console/kpis", params=NOVEMBER)
    assert away.status_code == 303
    assert away.headers["location"].startswith("/console/sign-in?next=/console/kpis")
    assert (await sign_in(http, api.keys["integration"])).status_code == 403
    assert (await http.get("/console/kpis")).status_code == 303
    for suffix in (".csv", ".xlsx"):
        away = await http.get(f"/console/kpis{suffix}", params=NOVEMBER)
        assert away.status_code == 303 and "/console/sign-in?next=" in away.headers["location"]
    for role in ("operator", "supervisor", "auditor", "admin"):
        await sign_in(http, api.keys[role])
        assert (await http.get("/console/kpis", params=NOVEMBER)).status_code == 200, role
        for suffix in (".csv", ".xlsx"):
            got = await http.get(f"/console/kpis{suffix}", params=NOVEMBER)
            assert got.status_code == 200, (role, suffix)
            assert got.headers["content-disposition"].startswith("attachment"), (role, suffix)


def downloads(html: str) -> dict[str, str]:
    """The page's CSV and XLSX links, as the browser would follow them."""
    links = dict(re.findall(r'<a href="(/console/kpis\.(csv|xlsx)\?[^"]*)" download',
                            html))
    return {fmt: htmllib.unescape(href) for href, fmt in links.items()}


def find(rows: list[dict[str, str]], scope: str, metric: str, dimension: str = "") -> dict:
    hits = [r for r in rows if (r["scope"], r["metric"], r["dimension"]) == (scope, metric,
                                                                          dimension)]
    assert len(hits) == 1, (scope, metric, dimension, len(hits))
    return hits[0]


def file_pct(r: dict[str, str]) -> str:
    return "-" if r["rate"] == "" else f"{float(r['rate']) * 100:.1f}%"


async def test_the_page_offers_the_figures_it_shows_as_csv_and_xlsx(api: Api) -> None:
    http = api.http
    for lang in ("en", "zh-CN"):
        words = catalogue(lang)
        await sign_in(http, api.keys["operator"], lang)
        html = (await http.get("/console/kpis", params=NOVEMBER)).text
        for key in ("kpi.downloads", "kpi.download_csv", "kpi.download_xlsx"):
            assert words[key] in html, (lang, key)
    for params, scope in ((NOVEMBER, "total"), ({**NOVEMBER, "tier": "key_account"}, "group")):
        page = await http.get("/console/kpis", params=params)
        html = page.text
        links = downloads(html)
        assert set(links) == {"csv", "xlsx"}, links
        assert "from=2026-11-01" in links["csv"] and "to=2026-11-30" in links["csv"]
        got = {fmt: await http.get(href) for fmt, href in links.items()}
        assert got["csv"].headers["content-type"].startswith("text/csv")
        assert got["xlsx"].headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        name = "kpis_2026-11-01_2026-11-30" + ("_key_account" if "tier" in params else "")
        for fmt, resp in got.items():
            assert resp.status_code == 200, resp.text
            assert resp.headers["content-disposition"] == f'attachment; filename="{name}.{fmt}"'
        rows = csv_rows(got["csv"].content)
        assert [same(r) for r in rows] == [same(r) for r in xlsx_rows(got["xlsx"].content)]
        if "tier" in params:
            assert {r["tier"] for r in rows if r["scope"] != "period"} == {"key_account"}
        # every figure the page shows, the same in the file
        for key in ("otif", "on_time", "in_full", "receipt_return", "follow_up",
                    "successful_follow_up"):
            r = find(rows, scope, key)
            assert row(html, "rate", key)[1:4] == [file_pct(r), r["numerator"],
                                                 r["denominator"]], key
        for name_ in re.findall(r'<tr data-transition="([a-z_]+)">', html):
            r = find(rows, scope, "cycle_time", name_)
            assert row(html, "transition", name_)[1] == r["count"]
            cells = re.search(rf'<tr data-transition="{name_}">.*?</tr>', html, re.S).group(0)
            assert re.findall(r'data-seconds="(\d*)"', cells) == [r["p50"], r["p90"], r["max"]]
        for stage in re.findall(r'<tr data-stage="([a-z_]+)">', html):
            assert row(html, "stage", stage)[1] == find(rows, scope, "escalations.by_stage",
                                                        stage)["count"]
        for level in re.findall(r'<tr data-level="(\w+)">', html):
            assert row(html, "level", level)[1] == find(rows, scope, "escalations.by_level",
                                                        level)["count"]
        steps = [row(html, "step", s)[1] for s in ("due", "attempted", "answered")]
        fu, ok = find(rows, scope, "follow_up"), find(rows, scope, "successful_follow_up")
        assert steps == [fu["denominator"], fu["numerator"], ok["numerator"]]
        for question in re.findall(r'<tr data-question="(\w+)">', html):
            cells = row(html, "question", question)
            r = find(rows, scope, "satisfaction", question)
            assert cells[1:3] == [f"{float(r['mean']):.2f}", r["count"]]
            dist = [r2 for r2 in rows if (r2["scope"], r2["metric"], r2["dimension"])
                    == (scope, "satisfaction.distribution", question)]
            assert cells[3:] == [next(d["count"] for d in dist if d["bucket"] == str(s))
                                 for s in range(1, 6)]
        weeks = re.findall(r'<tr data-week="([0-9-]+)">', html)
        assert weeks
        for day in weeks:
            cells = row(html, "week", day)
            otif, on_time = find(rows, "week", "otif", day), find(rows, "week", "on_time", day)
            assert cells[1:7] == [file_pct(otif), otif["numerator"], otif["denominator"],
                                  file_pct(on_time), on_time["numerator"],
                                  on_time["denominator"]], day
        find(rows, "period", "timezone", api.settings.business_timezone)
        # taken at the page's instant, not when the link is followed
        find(rows, "period", "as_of", parse_qs(urlsplit(links["csv"]).query)["as_of"][0])
    refused = await http.get("/console/kpis.csv", params={**NOVEMBER, "as_of": "yesterday"})
    assert refused.status_code == 422
    assert catalogue("zh-CN")["kpi.error.invalid_as_of"] in refused.text


def _with_seconds(text: str) -> datetime:
    """kpi_fixtures' times, to the second: '11-03T01:00:40'."""
    return datetime.fromisoformat(f"2026-{text}+00:00")


async def test_durations_under_a_minute_read_in_seconds(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Orders a rule confirmed 0 and 40 seconds after they came in: median 0 s, longest 40 s.
    monkeypatch.setitem(fx.CUSTOMERS, "C-RULE", Tier.STANDARD)
    monkeypatch.setattr(fx, "t", _with_seconds)
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        for order_id, confirmed in (("Q1", "11-03T01:00:00"), ("Q2", "11-04T01:00:40")):
            fx.order(session, order_id, "C-RULE", f"{confirmed[:5]}T23:00:00",
                     {"received": f"{confirmed[:5]}T01:00:00", "confirmed": confirmed})
    engine.dispose()
    for lang, zero, forty in (("en", "0s", "40s"), ("zh-CN", "0秒", "40秒")):
        words = catalogue(lang)
        await sign_in(api.http, api.keys["supervisor"], lang)
        page = await api.http.get("/console/kpis", params={**NOVEMBER, "customer": "C-RULE"})
        html = page.text
        cells = row(html, "transition", "received_to_confirmed")
        assert cells[1:] == ["2", zero, forty, forty], lang
        # the chart says the same, and nothing says "0 minutes"
        chart = re.search(r'<svg[^>]*>.*?</svg>', html[html.index('id="h-kpi-cycle"'):],
                          re.S).group(0)
        assert f"{words['kpi.p50']} {zero}<" in chart and f"{words['kpi.max']} {forty}<" in chart
        assert words["duration_m"].format(m=0) not in re.sub(r"<[^>]+>", " ", html)


async def test_every_chart_has_its_numbers_one_click_away(api: Api) -> None:
    await sign_in(api.http, api.keys["auditor"], "zh-CN")
    html = (await api.http.get("/console/kpis", params=NOVEMBER)).text
    words = catalogue("zh-CN")
    pieces = re.split(r'(?=<svg class="chart")', html)[1:]
    assert len(pieces) == 6
    for piece in pieces:
        title = re.search(r"<title[^>]*>(.*?)</title>", piece).group(1)
        # the table comes after its chart and before the next one, folded in <details>
        table = re.search(r'<details class="numbers" id="([a-z-]+)-numbers"><summary>(.*?)'
                          r'</summary><div class="table-wrap">\s*<table[^>]*>(.*?)</table>',
                          piece, re.S)
        assert table, title
        assert table.group(2) == words["kpi.numbers"], title
        assert len(re.findall(r"<tr data-", table.group(3))) >= 1, title


async def test_downloads_name_their_columns_in_the_pages_language(api: Api) -> None:
    """Issue 18 §6: a download from the zh-CN page has Chinese headers (with the BOM), as the
    audit CSV has; the cells keep their codes for programs."""
    for lang in ("en", "zh-CN"):
        words = catalogue(lang)
        await sign_in(api.http, api.keys["operator"], lang)
        for path, params in (("/console/kpis.csv", NOVEMBER),
                             ("/console/reports/follow-up-monthly.csv", {"month": "2026-11"})):
            body = (await api.http.get(path, params=params)).content
            assert body.startswith(b"\xef\xbb\xbf"), path
            header = body.decode("utf-8-sig").splitlines()[0].split(",")
            assert header[0] == words["download.col.scope"], (lang, path)
            assert {words[f"download.col.{c}"] for c in ("metric", "denominator")} <= set(header)
            if lang == "zh-CN":
                assert not any(re.fullmatch(r"[a-z_0-9]+", h) for h in header), header
