"""The console's audit page over HTTP: an order's business timeline and raw Temporal history,
their JSON Lines and CSV exports, and who may read them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.support.api_harness import Api, order_body
from tests.support.console_harness import sign_in
from tests.support.polling import eventually

# The timeline's reads run on both engines in tests/api/orders/: the page on SQLite.
pytestmark = pytest.mark.one_engine


async def confirmed_order(api: Api) -> str:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    assert (await api.event(order_id, "confirmed")).status_code == 200

    async def projected() -> list | None:
        items = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        return items if any(e["type"] == "confirmed" for e in items) else None
    await eventually(projected)
    return order_id


async def test_an_auditor_reads_the_timeline_and_history_and_exports_both(api: Api) -> None:
    order_id = await confirmed_order(api)
    http = api.http
    await sign_in(http, api.keys["auditor"])
    base = f"/console/audit/orders/{order_id}"

    board = await http.get("/console/board")
    assert 'href="/console/audit"' in board.text
    by_id = await http.get("/console/audit", params={"order_id": order_id})
    assert by_id.status_code == 303 and by_id.headers["location"] == base
    page = await http.get(base)
    assert page.status_code == 200, page.text
    assert 'data-testid="audit-timeline"' in page.text and 'data-type="confirmed"' in page.text
    assert "test-operator" in page.text
    assert 'data-event-type="WORKFLOW_EXECUTION_STARTED"' in page.text
    assert "workflow_type=" in page.text
    assert "<details>" in page.text

    timeline = await http.get(f"{base}/timeline.jsonl")
    assert timeline.status_code == 200
    assert timeline.headers["content-disposition"] == \
        f'attachment; filename="{order_id}-timeline.jsonl"'
    lines = [json.loads(line) for line in timeline.text.splitlines()]
    api_items = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    assert [e["event_id"] for e in lines] == [e["event_id"] for e in api_items]
    assert [(e["type"], e["actor"], e["source"]) for e in lines] == \
        [(e["type"], e["actor"], e["source"]) for e in api_items]
    assert "confirmed" in [e["type"] for e in lines]
    assert {e["actor"] for e in lines} >= {"test-operator"}

    as_csv = await http.get(f"{base}/timeline.csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"].endswith(f'{order_id}-timeline.csv"')
    # a byte order mark first, as the KPI CSVs have, so a spreadsheet reads the Chinese text
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(r["event_id"], r["type"], r["actor"], r["source"]) for r in rows] == \
        [(e["event_id"], e["type"], e["actor"], e["source"]) for e in lines]
    assert [json.loads(r["data"]) for r in rows] == [e["data"] for e in lines]
    assert [r["occurred_at"] for r in rows] == [e["occurred_at"] for e in lines]

    history = await http.get(f"{base}/history.jsonl")
    events = [json.loads(line) for line in history.text.splitlines()]
    assert events[0]["event_id"] == 1 and events[0]["event_type"] == "WORKFLOW_EXECUTION_STARTED"
    assert events[0]["event"]["workflow_execution_started_event_attributes"]
    history_csv = await http.get(f"{base}/history.csv")
    assert history_csv.headers["content-disposition"].endswith(f'{order_id}-history.csv"')
    assert history_csv.content.startswith(b"\xef\xbb\xbf")
    hrows = list(csv.DictReader(io.StringIO(history_csv.content.decode("utf-8-sig"))))
    assert len(hrows) >= len(events)  # the workflow may have moved on between the two reads
    assert [int(r["event_id"]) for r in hrows[:len(events)]] == [e["event_id"] for e in events]
    assert json.loads(hrows[0]["event"])["event_id"] in ("1", 1)


async def test_orders_listed_by_creation_time_and_operators_refused(api: Api) -> None:
    order_id = await confirmed_order(api)
    http = api.http
    await sign_in(http, api.keys["operator"])
    for path in ("/console/audit", f"/console/audit/orders/{order_id}",
                 f"/console/audit/orders/{order_id}/timeline.csv",
                 f"/console/audit/orders/{order_id}/history.jsonl"):
        refused = await http.get(path)
        assert refused.status_code == 403 and 'data-state="forbidden"' in refused.text, path
    assert 'href="/console/audit"' not in (await http.get("/console/board")).text

    await sign_in(http, api.keys["admin"])
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(hours=1)).isoformat(timespec="minutes"),
              "to": (now + timedelta(hours=1)).isoformat(timespec="minutes")}
    listed = await http.get("/console/audit", params=window)
    assert listed.status_code == 200
    assert f'href="/console/audit/orders/{quote(order_id)}"' in listed.text
    empty = await http.get("/console/audit", params={"from": "2001-01-01T00:00",
                                                      "to": "2001-01-02T00:00"})
    assert 'data-testid="audit-found-none"' in empty.text
    backwards = await http.get("/console/audit", params={"from": window["to"],
                                                          "to": window["from"]})
    assert backwards.status_code == 422 and 'role="alert"' in backwards.text
    missing = await http.get("/console/audit/orders/no-such-order")
    assert missing.status_code == 404
