"""The console's KPI page over HTTP: the numbers it shows are compute_kpis's for the same period
(the hand-computed month of tests/kpi_fixtures.py), in both languages, with a chart per figure and
its table; who may read it, and bad periods refused with the reason."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from temporalio.testing import WorkflowEnvironment

from console.i18n import catalogue
from db.engine import make_engine, session_factory, transaction
from kpis import KpiQuery, compute_kpis
from kpis.periods import range_bounds
from tests import kpi_fixtures as fx
from tests.api_harness import Api, api_stack
from tests.test_console import sign_in

NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
async def api(dev_env: WorkflowEnvironment, db_url: str, task_queue: str,
              tmp_path: Path) -> AsyncIterator[Api]:
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as session:
        fx.november(session)
    engine.dispose()
    async with api_stack(dev_env.client, db_url, task_queue, tmp_path, worker=False) as stack:
        yield stack


def expected(api: Api, group_by: list[str] | None = None) -> dict:
    tz = ZoneInfo(api.settings.business_timezone)
    start, end = range_bounds(NOVEMBER["from"], NOVEMBER["to"], tz)
    engine = make_engine(api.settings.db_url)
    with transaction(session_factory(engine)) as session:
        report = compute_kpis(session, KpiQuery(start, end, group_by or [],
                                                datetime.now(UTC)), tz).to_json()
    engine.dispose()
    return report


def row(html: str, attr: str, value: str) -> list[str]:
    """The cells of the table row marked data-<attr>="value", as text."""
    match = re.search(rf'<tr data-{attr}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attr}={value}"
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


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
            assert cells[1:3] == [f"{sc['mean']:.2f}", str(sc["count"])]
            assert cells[3:] == [str(sc["distribution"][str(s)]) for s in range(1, 6)]
        # each chart an image named by its title, its numbers one click away
        assert html.count('role="img"') == 6 and html.count('<details class="numbers"') == 5
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
    for role in ("operator", "supervisor", "auditor", "admin"):
        await sign_in(http, api.keys[role])
        assert (await http.get("/console/kpis", params=NOVEMBER)).status_code == 200, role
