"""The console's monthly follow-up report (回访月报) over HTTP, as a customer-service manager reads
it: November of tests/support/kpi_fixtures.py in both languages (rates with their fractions,
problems and outcomes in words, customers by name), the report as first stored when the schedule
stored one and how many figures late events changed since, the same figures as CSV and XLSX, who
may read it, and a bad month told on the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from console.i18n import catalogue
from db.engine import make_engine, session_factory, transaction
from db.kpis import snapshots as snaps
from db.orders.models import Order
from kpis import follow_up_monthly
from kpis.late import figures
from kpis.periods import previous_month as last_full_month
from kpis.report_words import late_lines
from tests.support import kpi_fixtures as fx
from tests.support.api_harness import Api
from tests.support.console_harness import sign_in
from tests.support.report_rows import csv_rows, row, same, xlsx_rows

PAGE = "/console/reports/follow-up-monthly"
NOVEMBER = {"month": "2026-11"}
RENAMED = "华东医药 (East China Pharma)"


def late_answer(session: Any) -> None:
    """A follow-up due in November whose answer reaches Waybill only after the report."""
    fx.order(session, "O10", "C-C", "11-20T00:00", {
        "received": "11-16T00:00", "confirmed": "11-16T01:00", "picked": "11-16T02:00",
        "shipped": "11-17T00:00", "in_transit": "11-17T00:00", "delivered": "11-18T00:00",
        "followed_up": "11-19T03:00"}, carrier="SF", on_time=True, in_full=True,
        answer=fx.Answer("11-19T03:00", {"arrival": 2, "service": 1}))


def seed(session: Session) -> None:
    fx.november(session)
    # Today's survey questions, so their names read translated; a known problem besides.
    fx.order(session, "O11", "C-B", "11-30T00:00", {
        "received": "11-28T06:00", "confirmed": "11-28T07:00", "picked": "11-28T08:00",
        "shipped": "11-28T09:00", "in_transit": "11-28T09:00", "delivered": "11-29T00:00",
        "followed_up": "11-29T10:00"}, carrier="SF", on_time=True, in_full=True,
        answer=fx.Answer("11-29T10:00", {"timeliness": 2, "completeness": 5, "courtesy": 4},
                         problems=("low_score:timeliness",)))
    # C-B's newest order (O11, received after O8) carries its new name: the report names
    # it so.
    session.execute(update(Order).where(Order.order_id == "O11").values(
        customer={"id": "C-B", "name": RENAMED, "tier": "key_account"}))


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"seed": seed, "worker": False}


def in_db(api: Api, work: Any) -> Any:
    engine = make_engine(api.settings.db_url)
    try:
        with transaction(session_factory(engine)) as session:
            return work(session)
    finally:
        engine.dispose()


def live(api: Api, as_of: datetime | None = None) -> dict[str, Any]:
    tz = ZoneInfo(api.settings.business_timezone)
    return in_db(api, lambda s: follow_up_monthly(s, "2026-11", tz,
                                                  as_of or datetime.now(UTC)).to_json())


def ratio(r: dict[str, Any]) -> str:
    return f"{r['rate'] * 100:.1f}% ({r['numerator']} / {r['denominator']})"


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def headline(html: str) -> dict[str, str]:
    table = re.search(r'data-testid="fur-headline">(.*?)</table>', html, re.S).group(1)
    table = re.sub(r'<span class="hint"[^>]*>.*?</span>', "", table)  # what a rate counts
    return {key: text(cell) for key, cell in re.findall(
        r'<tr data-(?:step|rate)="(\w+)"><th[^>]*>.*?</th><td>(.*?)</td></tr>', table, re.S)}


def shows_figures(html: str, f: dict[str, Any], lang: str) -> None:
    """The page's headline, outcomes, satisfaction and problems are those of `f`."""
    words = catalogue(lang)
    head = headline(html)
    assert [head[k] for k in ("due", "attempted", "answered")] == [
        str(f["due"]), str(f["attempted"]), str(f["answered"])]
    assert head["follow_up_rate"] == ratio(f["follow_up_rate"])
    assert head["successful_follow_up_rate"] == ratio(f["successful_follow_up_rate"])
    # what the rates' denominator counts, beside them (issue 18 §6)
    assert words["kpi.denominator.follow_up"].format(n=f["follow_up_rate"]["denominator"]) in html
    for outcome in ("answered", "refused", "expired", "open"):
        assert row(html, "outcome", outcome) == [words[f"fur.outcome.{outcome}"],
                                                 str(f["outcomes"].get(outcome, 0))]
    for question, sc in f["satisfaction"].items():
        cells = row(html, "question", question)
        assert cells[0] == words.get(f"order.question.{question}", question)
        assert cells[1:3] == [f"{sc['mean']:.2f}", str(sc["count"])]
        assert cells[3:] == [str(sc["distribution"][str(s)]) for s in range(1, 6)]
    ranked = re.findall(r'<tr data-problem="([^"]+)">', html)
    assert ranked == [p["label"] for p in f["problems"]]  # most frequent first
    for n, p in enumerate(f["problems"], start=1):
        assert row(html, "problem", p["label"])[0::2] == [str(n), str(p["count"])]


async def test_the_page_reads_the_month_as_a_manager_does_in_both_languages(api: Api) -> None:
    http = api.http
    report = live(api)
    f = report["total"]
    assert f["due"] == 7 and {p["label"] for p in f["problems"]} >= {
        "goods_not_ok", "low_score:timeliness"}
    # a suggestion is no problem (issue 18 §6): listed by its text, never ranked as a problem
    assert "suggestion" not in {p["label"] for p in f["problems"]}
    for lang in ("en", "zh-CN"):
        words = catalogue(lang)
        await sign_in(http, api.keys["supervisor"], lang)
        for start in ("/console/board", "/console/kpis"):
            assert f'href="{PAGE}"' in (await http.get(start)).text, start
        page = await http.get(PAGE, params=NOVEMBER)
        assert page.status_code == 200, page.text
        html = page.text
        assert f'<html lang="{lang}">' in html
        assert words["fur.title_month"].format(month="2026-11") in html
        assert words["fur.live"].split("{")[0] in html and 'data-testid="fur-stored"' not in html
        shows_figures(html, f, lang)
        # problems and questions in words, unknown ones as sent
        problems = {p: row(html, "problem", p)[1] for p in ("goods_not_ok",
                                                           "low_score:timeliness",
                                                           "low_score:arrival")}
        assert problems == {
            "goods_not_ok": words["fur.problem.goods_not_ok"],
            "low_score:timeliness": words["fur.problem.low_score"].format(
                question=words["order.question.timeliness"]),
            "low_score:arrival": words["fur.problem.low_score"].format(question="arrival")}
        assert 'data-problem="suggestion"' not in html
        assert "call before delivery" in text(html)  # the customers' own words
        # customers by name beside their id, the newest order's name; tiers in words
        assert row(html, "customer", "C-B")[0] == f"{RENAMED} (C-B)"
        assert row(html, "customer", "C-A")[0] == "C-A Ltd (C-A)"
        ca = next(g["figures"] for g in report["by_customer"] if g["key"] == "C-A")
        assert row(html, "customer", "C-A")[1:6] == [
            str(ca["due"]), str(ca["attempted"]), str(ca["answered"]),
            ratio(ca["follow_up_rate"]), ratio(ca["successful_follow_up_rate"])]
        for g in report["by_tier"]:
            cells = row(html, "tier", g["key"])
            assert cells[0] == words[f"tier.{g['key']}"]
            assert cells[1:4] == [str(g["figures"][k]) for k in ("due", "attempted", "answered")]
        # the satisfaction chart is an image named by its title, its table one click away
        assert html.count('role="img"') == 1
        assert re.search(r'</svg>\s*<details class="numbers" id="sat-numbers"><summary>'
                         + re.escape(words["kpi.numbers"]), html)
        # the months around it
        assert f'href="{PAGE}?month=2026-10"' in html and f'href="{PAGE}?month=2026-12"' in html
        other = catalogue("en" if lang == "zh-CN" else "zh-CN")
        assert other["fur.problems_title"] not in html


async def test_a_stored_report_is_shown_as_first_reported_with_the_late_changes_counted(
        api: Api) -> None:
    stored = live(api, fx.AFTER_ALL)
    reported_at = datetime(2026, 12, 1, 6, 0, 5, tzinfo=UTC)
    in_db(api, lambda s: snaps.store_first(s, snaps.SnapshotKind.FOLLOW_UP_MONTHLY, "2026-11",
                                           reported_at, fx.AFTER_ALL, "Asia/Shanghai", stored))
    http = api.http
    await sign_in(http, api.keys["auditor"], "zh-CN")
    html = (await http.get(PAGE, params=NOVEMBER)).text
    words = catalogue("zh-CN")
    assert "首次报告于 2026-12-01 14:00" in html  # in the viewer's zone, Asia/Shanghai
    assert words["fur.late_none"] in html and 'data-testid="fur-live"' not in html
    shows_figures(html, stored["total"], "zh-CN")

    in_db(api, late_answer)
    now = live(api, fx.AFTER_ALL)
    assert now["total"]["due"] == stored["total"]["due"] + 1
    # counted as the monthly message counts them: a rate once, not again for its fraction
    changed = late_lines(figures(stored, now), "en")
    assert 0 < len(changed) < len(figures(stored, now))
    for lang in ("en", "zh-CN"):
        words = catalogue(lang)
        await sign_in(http, api.keys["auditor"], lang)
        html = (await http.get(PAGE, params=NOVEMBER)).text
        assert words["fur.stored"].split("{")[0] in html
        shows_figures(html, stored["total"], lang)  # the stored figures, not today's
        assert words["fur.late_some"].format(n=len(changed)) in html
        late = re.search(r'data-testid="fur-late">(.*?)</details>', html, re.S).group(1)
        first = "回访率，合计" if lang == "zh-CN" else "follow-up rate, total"
        assert first in late and "numerator" not in late
    await sign_in(http, api.keys["auditor"], "en")
    html = (await http.get(PAGE, params=NOVEMBER)).text
    assert "As first reported on 2026-12-01 14:00" in html


def page_links(html: str) -> dict[str, str]:
    return {fmt: href.replace("&amp;", "&") for href, fmt in re.findall(
        rf'<a href="({re.escape(PAGE)}\.(csv|xlsx)\?[^"]*)" download', html)}


def pick(rows: list[dict[str, str]], scope: str, metric: str, dimension: str = "",
         key: str = "") -> dict[str, str]:
    hits = [r for r in rows if (r["scope"], r["metric"], r["dimension"]) == (scope, metric,
                                                                          dimension)
            and (not key or r[scope] == key)]
    assert len(hits) == 1, (scope, metric, dimension, key, len(hits))
    return hits[0]


def file_ratio(r: dict[str, str]) -> str:
    return f"{float(r['rate']) * 100:.1f}% ({r['numerator']} / {r['denominator']})"


async def test_the_downloads_hold_what_the_page_shows(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"], "zh-CN")
    for stored in (False, True):
        if stored:
            body = live(api, fx.AFTER_ALL)
            in_db(api, lambda s, body=body: snaps.store_first(
                s, snaps.SnapshotKind.FOLLOW_UP_MONTHLY, "2026-11",
                datetime(2026, 12, 1, tzinfo=UTC), fx.AFTER_ALL, "Asia/Shanghai", body))
            in_db(api, late_answer)  # after the report: the files keep the stored figures
        html = (await http.get(PAGE, params=NOVEMBER)).text
        links = page_links(html)
        assert set(links) == {"csv", "xlsx"}
        assert ("as_of=" in links["csv"]) is not stored  # a live page pins its instant
        got = {fmt: await http.get(href) for fmt, href in links.items()}
        for fmt, resp in got.items():
            assert resp.status_code == 200, resp.text
            assert resp.headers["content-disposition"] == \
                f'attachment; filename="follow-up-monthly_2026-11.{fmt}"'
        assert got["xlsx"].headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        rows = csv_rows(got["csv"].content)
        assert [same(r) for r in rows] == [same(r) for r in xlsx_rows(got["xlsx"].content)]
        head = headline(html)
        for step in ("due", "attempted", "answered"):
            assert pick(rows, "total", step)["count"] == head[step]
        for rate in ("follow_up_rate", "successful_follow_up_rate"):
            assert file_ratio(pick(rows, "total", rate)) == head[rate]
        for question in re.findall(r'<tr data-question="(\w+)">', html):
            r = pick(rows, "total", "satisfaction", question)
            assert row(html, "question", question)[1:3] == [f"{float(r['mean']):.2f}",
                                                            r["count"]]
        for label in re.findall(r'<tr data-problem="([^"]+)">', html):
            assert row(html, "problem", label)[2] == pick(rows, "total", "problems",
                                                          label)["count"]
        for outcome in ("answered", "refused", "expired"):
            assert row(html, "outcome", outcome)[1] == pick(rows, "total", "outcomes",
                                                            outcome)["count"]
        cb = pick(rows, "customer", "due", key="C-B")
        assert cb["customer_name"] == RENAMED
        assert cb["count"] == row(html, "customer", "C-B")[1]
        period = {r["metric"]: r["dimension"] for r in rows if r["scope"] == "period"}
        assert period["month"] == "2026-11"
        assert period["first_reported_at"] == ("2026-12-01T00:00:00+00:00" if stored else "")
        if stored:  # as many as the page counts
            assert period["as_of"].startswith("2026-12-10T00:00:00")
            n = int(period["late_figures_changed"])
            assert n > 0 and catalogue("zh-CN")["fur.late_some"].format(n=n) in html
        else:
            assert period["late_figures_changed"] == ""
            pinned = parse_qs(urlsplit(links["csv"]).query)["as_of"][0]
            assert period["as_of"][:19] == pinned[:19]  # the page's instant


async def test_who_may_read_it(api: Api) -> None:
    http = api.http
    http.cookies.clear()
    away = await http.get(PAGE, params=NOVEMBER)
    assert away.status_code == 303
    assert away.headers["location"].startswith(f"/console/sign-in?next={PAGE}")
    assert (await sign_in(http, api.keys["integration"])).status_code == 403
    for suffix in ("", ".csv", ".xlsx"):
        away = await http.get(PAGE + suffix, params=NOVEMBER)
        assert away.status_code == 303 and "/console/sign-in?next=" in away.headers["location"]
    # a signed-in user whose role may not read KPIs would get the 403 page, as on /console/kpis
    for role in ("operator", "supervisor", "auditor", "admin"):
        await sign_in(http, api.keys[role])
        assert (await http.get(PAGE, params=NOVEMBER)).status_code == 200, role
        for suffix in (".csv", ".xlsx"):
            got = await http.get(PAGE + suffix, params=NOVEMBER)
            assert got.status_code == 200, (role, suffix)
            assert got.headers["content-disposition"].startswith("attachment"), (role, suffix)


async def test_the_default_month_and_a_bad_month(api: Api) -> None:
    http = api.http
    tz = ZoneInfo(api.settings.business_timezone)
    for lang in ("en", "zh-CN"):
        words = catalogue(lang)
        await sign_in(http, api.keys["operator"], lang)
        before = last_full_month(datetime.now(UTC), tz)
        page = await http.get(PAGE)
        after = last_full_month(datetime.now(UTC), tz)
        assert page.status_code == 200
        assert any(words["fur.title_month"].format(month=m) in page.text for m in (before, after))
        assert 'type="month"' in page.text
        # no month after the current one is offered
        this_month = datetime.now(tz).strftime("%Y-%m")
        assert f"month={this_month}" in page.text or before != after
        current = await http.get(PAGE, params={"month": this_month})
        assert 'data-testid="fur-next"' not in current.text
        for month in ("2026-13", "november", "2026-1", "2026-11-01"):
            bad = await http.get(PAGE, params={"month": month})
            assert bad.status_code == 422, month
            assert words["fur.error.invalid_month"] in bad.text, month
            assert f'value="{month}"' in bad.text  # what was typed, to correct
            assert 'role="alert"' in bad.text and 'data-testid="fur-downloads"' not in bad.text
        for suffix in (".csv", ".xlsx"):
            bad = await http.get(PAGE + suffix, params={"month": "2026-13"})
            assert bad.status_code == 422 and words["fur.error.invalid_month"] in bad.text
        bad = await http.get(PAGE + ".csv", params={**NOVEMBER, "as_of": "yesterday"})
        assert bad.status_code == 422 and words["fur.error.invalid_as_of"] in bad.text
    # an empty month reads as such, not as an error
    empty = await http.get(PAGE, params={"month": "2025-01"})
    assert empty.status_code == 200 and headline(empty.text)["due"] == "0"
    assert catalogue("zh-CN")["fur.empty"] in empty.text


def test_months_step_across_years() -> None:
    from console.reports.view import shift
    assert [shift("2026-01", -1), shift("2026-12", 1), shift("2026-11", 0)] == [
        "2025-12", "2027-01", "2026-11"]
    tz = ZoneInfo("Asia/Shanghai")
    # 2026-12-31T17:00Z is already January 1st in Shanghai: December is the last full month
    assert last_full_month(datetime(2026, 12, 31, 17, tzinfo=UTC), tz) == "2026-12"
    assert last_full_month(datetime(2026, 12, 31, 15, tzinfo=UTC) + timedelta(0), tz) == "2026-11"
