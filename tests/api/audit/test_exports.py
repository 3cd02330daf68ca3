"""Issue 17 §5: an order's story as files an auditor opens (JSON Lines; CSV with a BOM and
headers in the chosen language; times to the second with their zone), and the time-range export
that streams a page of orders at a time (keyset), so memory does not grow with the range."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.converter import default

from api.audit import exports
from api.errors import ApiError
from console.i18n import Viewer
from db.orders.queries import apply_change
from tests.support.api_harness import Api, created, error_code
from tests.support.console_harness import sign_in
from tests.support.order_states import full_state
from tests.support.polling import eventually
from workflows.order.changes import ChangeTracker
from workflows.order.types import ProjectionChange, TimelineEntry

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
EN = Viewer(locale="en", zone="Asia/Shanghai")
ZH = Viewer(locale="zh-CN", zone="Asia/Shanghai")


# --- pure rules -------------------------------------------------------------------------------

def _code(call: Any, *args: Any) -> str:
    with pytest.raises(ApiError) as caught:
        call(*args)
    assert caught.value.status == 422
    return str(caught.value.code)


def test_a_bad_or_too_long_range_is_refused_with_its_code() -> None:
    day = timedelta(days=1)
    assert _code(exports.check_range, None, T0, 31) == "audit_range_missing"
    assert _code(exports.check_range, T0.replace(tzinfo=None), T0 + day, 31) == \
        "audit_range_naive"
    assert _code(exports.check_range, T0, T0, 31) == "audit_range_inverted"
    assert _code(exports.check_range, T0, T0 + 32 * day, 31) == "audit_range_too_long"
    exports.check_range(T0, T0 + 31 * day, 31)  # the longest allowed


def test_language_and_zone_come_from_the_query_then_the_browser() -> None:
    assert exports.viewer_for("en", None, "zh-CN", "Asia/Shanghai") == EN
    assert exports.viewer_for(None, None, "en-GB,en;q=0.8", "Asia/Shanghai") == EN
    assert exports.viewer_for(None, "UTC", None, "Asia/Shanghai") == Viewer("zh-CN", "UTC")
    assert _code(exports.viewer_for, "fr", None, None, "UTC") == "unknown_language"
    assert _code(exports.viewer_for, None, "Mars/Base", None, "UTC") == "unknown_time_zone"


def test_csv_starts_with_a_bom_and_headers_in_the_language_and_zone() -> None:
    zh, en = exports.csv_header(ZH), exports.csv_header(EN)
    assert zh.startswith("\ufeff") and en.startswith("\ufeff")
    assert "事件时间（Asia/Shanghai）" in zh and "记录时间（Asia/Shanghai）" in zh
    assert "Event time (Asia/Shanghai)" in en and "What happened" in en
    assert exports.stamp(EN, T0) == "2026-11-02T09:00:00+08:00"  # seconds and offset


def test_a_cell_a_spreadsheet_would_run_is_made_inert() -> None:
    line = exports.csv_line(["=HYPERLINK(\"x\")", ["甲", "乙"], {"k": "值"}])
    cells = next(csv.reader(io.StringIO(line)))
    assert not cells[0].startswith("=") and cells[1] == "甲\n乙" and cells[2] == '{"k": "值"}'


# --- on the database: the range export reads a page at a time ---------------------------------

def _seed(sessions: sessionmaker[Session], count: int, start: datetime,
          prefix: str = "R", padding: int = 0) -> list[str]:
    ids = []
    for n in range(count):
        state = full_state()
        received = start + timedelta(minutes=n)
        state = replace(state, order_id=f"{prefix}-{n:05d}",
                        stage_times={**state.stage_times, "received": received})
        entry = TimelineEntry(event_id=f"note-{n}", type="note", occurred_at=received,
                              recorded_at=received, actor="审计员 王", source="console",
                              data={"text": f"客户要求周五送达 {n}" + "货" * padding})
        # Through the converter, as the projection activity receives it.
        conv = default().payload_converter
        [change] = conv.from_payloads(conv.to_payloads(
            [ChangeTracker().change(state, [entry])]), [ProjectionChange])
        with sessions.begin() as session:
            apply_change(session, change)
        ids.append(state.order_id)
    return ids


def _orders_in(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(json.loads(line)["order_id"] for line in lines))


def test_the_range_export_reads_later_pages_only_when_it_gets_there(
        sessions: sessionmaker[Session]) -> None:
    ids = _seed(sessions, 7, T0)
    stream = exports.range_lines(sessions, EN, "jsonl", T0, T0 + timedelta(days=1), page=3)
    first = next(stream)
    assert _orders_in(first.splitlines()) == ids[:3]
    # An order created after the first page was read, later in the range: a stream that had
    # read the whole range up front could not show it.
    late = _seed(sessions, 1, T0 + timedelta(hours=2), prefix="S")
    rest = "".join(stream).splitlines()
    assert _orders_in(rest) == ids[3:] + late
    row = json.loads(rest[0])
    assert row["occurred_at"].endswith("+08:00") and row["sentence"]
    assert "客户要求周五送达 3" in row["texts"]  # unescaped and whole
    # The range is [from, to): an order created at `to` is left out.
    assert _orders_in("".join(exports.range_lines(
        sessions, EN, "jsonl", T0, T0 + timedelta(minutes=2))).splitlines()) == ids[:2]


@pytest.mark.one_engine
def test_the_range_exports_memory_does_not_grow_with_the_range(
        sessions: sessionmaker[Session]) -> None:
    _seed(sessions, 400, T0, padding=1500)  # each order's CSV rows ~9 kB

    def peak(orders: int) -> tuple[int, int]:
        tracemalloc.start()
        size = sum(len(chunk.encode()) for chunk in exports.range_lines(
            sessions, ZH, "csv", T0, T0 + timedelta(minutes=orders), page=25))
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return size, peak_bytes

    peak(25)  # warm SQLAlchemy's caches
    small_size, small_peak = peak(50)
    big_size, big_peak = peak(400)
    print(f"range export: 50 orders {small_size} B peak {small_peak} B; "
          f"400 orders {big_size} B peak {big_peak} B")
    assert big_size > 7 * small_size  # eight times the orders...
    assert big_peak < 2 * small_peak  # ...in about the same memory
    assert big_peak < big_size  # never the whole file at once


# --- over HTTP --------------------------------------------------------------------------------

async def _noted_order(api: Api) -> str:
    order_id = await created(api)
    note = await api.event(order_id, "note", {"text": "客户要求周五送达"}, role="operator")
    assert note.status_code == 200, note.text

    async def projected() -> bool | None:
        items = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        return True if any(e["type"] == "note" for e in items) else None
    await eventually(projected)
    return order_id


@pytest.mark.one_engine
async def test_an_auditor_downloads_the_story_in_either_language(api: Api) -> None:
    order_id = await _noted_order(api)
    base = f"/v1/orders/{order_id}/audit/story"
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]

    jsonl = await api.get(f"{base}.jsonl", role="auditor", lang="en", tz="Asia/Shanghai")
    assert jsonl.status_code == 200, jsonl.text
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["event_id"] for r in rows] == [e["event_id"] for e in timeline]
    assert {r["kind"] for r in rows} >= {"order"}
    note = next(r for r in rows if r["type"] == "note")
    assert note["texts"] == ["客户要求周五送达"] and note["occurred_at"].endswith("+08:00")
    assert len(note["recorded_at"]) == len("2026-12-05T15:51:15+08:00")

    headers = {"zh-CN": "事件时间（Asia/Shanghai）", "en": "Event time (Asia/Shanghai)"}
    for lang, header in headers.items():
        resp = await api.http.get(f"{base}.csv", headers={
            **api.auth("auditor"), "Accept-Language": lang})
        assert resp.status_code == 200 and resp.headers["content-language"] == lang
        assert resp.content.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
        assert header in table[0] and len(table) == len(rows) + 1
        assert any("客户要求周五送达" in cell for cell in table[-1] + table[-2])
    # Only the kinds asked for; only auditors and admins; a bad language, kind or order says so.
    only = await api.get(f"{base}.jsonl", role="admin", kind="notification")
    assert only.status_code == 200 and only.text == ""
    assert (await api.get(f"{base}.csv", role="operator")).status_code == 403
    assert error_code(await api.get(f"{base}.csv", role="auditor", lang="fr")) == \
        "unknown_language"
    assert error_code(await api.get(f"{base}.csv", role="auditor", kind="x")) == \
        "unknown_timeline_kind"
    assert error_code(await api.get("/v1/orders/NOPE-9/audit/story.csv", role="auditor")) == \
        "order_not_found"

    # The console's audit page links its own copy, in the viewer's language.
    await sign_in(api.http, api.keys["auditor"])
    page = await api.http.get(f"/console/audit/orders/{order_id}")
    assert f"/console/audit/orders/{order_id}/story.csv" in page.text
    console_csv = await api.http.get(f"/console/audit/orders/{order_id}/story.csv")
    assert console_csv.status_code == 200 and console_csv.content.startswith(b"\xef\xbb\xbf")


@pytest.mark.one_engine
async def test_the_range_export_streams_and_refuses_bad_ranges(api: Api) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    order_id = await _noted_order(api)
    after = datetime.now(UTC) + timedelta(minutes=1)
    params = {"from": before.isoformat(), "to": after.isoformat()}
    async with api.http.stream("GET", "/v1/audit/export", headers=api.auth("auditor"),
                               params={**params, "format": "jsonl"}) as resp:
        assert resp.status_code == 200
        assert "attachment" in resp.headers["content-disposition"]
        body = b"".join([chunk async for chunk in resp.aiter_bytes()])
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert order_id in {r["order_id"] for r in rows}
    csv_resp = await api.get("/v1/audit/export", role="admin", format="csv", lang="en", **params)
    assert csv_resp.content.startswith(b"\xef\xbb\xbf") and b"Event time" in csv_resp.content

    def bad(**query: Any) -> Any:
        return api.get("/v1/audit/export", role="auditor", **query)
    assert error_code(await bad(**{"from": before.isoformat()})) == "audit_range_missing"
    assert error_code(await bad(**{"from": "2026-12-01T00:00:00", "to": after.isoformat()})) \
        == "audit_range_naive"
    assert error_code(await bad(**{"from": after.isoformat(), "to": before.isoformat()})) \
        == "audit_range_inverted"
    long = await bad(**{"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"})
    assert long.status_code == 422 and error_code(long) == "audit_range_too_long"
    assert error_code(await bad(format="xlsx", **params)) == "unknown_export_format"
    assert (await bad(**{"from": "yesterday", "to": "today"})).status_code == 422
    assert (await api.get("/v1/audit/export", role="operator", **params)).status_code == 403
