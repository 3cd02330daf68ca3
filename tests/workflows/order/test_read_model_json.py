"""The order's read model (orders.detail, db/orders/queries.py `_detail`) keeps its JSON while
the workflow's state is typed: a happy path with receipt versions and phone follow-up, and an
exceptions path (shortage, backorder, delivery exception, damaged delivery, claim, complaint),
projected by the real worker into SQLite, against the JSON recorded before the typing.

Times differ per run, so each is compared by its format only ("<time Z>", "<time +00:00>");
every key, null, number and text is compared as is. Events carry what the API sends
(pydantic's JSON: times end in Z, documents name all five fields).
Re-record (only for an intended change of the read model): WAYBILL_RECORD_GOLDEN=1. Re-recorded
once, when the scans left `detail` for rows of their own (order_scans, lean projections).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic_core import to_jsonable_python
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from db.engine import make_engine, session_factory
from db.orders.models import Order
from db.orders.queries import scans_of
from tests.support.builders import FULL_PICK, STANDARD, event
from tests.support.order_workflow_harness import SLACK, NewOrder, post, secs
from workflows.order.types import EventType, Stage

GOLDEN = Path(__file__).parent / "golden" / "order_detail.json"
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SHA_A, SHA_B = "a" * 64, "b" * 64


def _doc(sha: str) -> dict[str, Any]:
    return {"ref": f"archive:sha256:{sha}", "sha256": sha, "content_type": "application/pdf",
            "size": 1234, "filename": "receipt.pdf"}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, str) and (m := _TIME.match(value)):
        return f"<time {m.group(2) if m.group(2) == 'Z' else '+00:00'}>"
    return value


def _detail(url: str, order_id: str) -> Any:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            row = session.get(Order, order_id)
            assert row is not None
            scans = [[s.event_id, s.location, s.status] for s in scans_of(session, order_id)]
            return {**_shape(row.detail), "scan_rows": scans}
    finally:
        engine.dispose()


async def _send(env: WorkflowEnvironment, h: WorkflowHandle, type_: EventType, event_id: str,
                data: dict[str, Any]) -> Stage:
    return await post(h, event(type_, await env.get_current_time(), data, event_id=event_id))


async def _happy(env: WorkflowEnvironment, new: NewOrder) -> str:
    h = await new(Stage.RECEIVED, order_id="SO-GOLD-1")
    await _send(env, h, EventType.CONFIRMED, "e1", {"by": None})
    await _send(env, h, EventType.PICKED, "e2", FULL_PICK)
    await _send(env, h, EventType.SHIPPED, "e3", {
        "carrier": "SF Express", "tracking_no": "SF123", "vehicle": None, "driver": "Wang",
        "lines": FULL_PICK["lines"]})
    now = await env.get_current_time()
    await _send(env, h, EventType.TRACKING_SCAN, "e4", {
        "location": "Hub", "status": "departed", "eta": to_jsonable_python(now + secs(3600))})
    await _send(env, h, EventType.DELIVERED, "e5", {
        "signer": "Li Lei", "condition": "intact", "pod": {"kind": "signature", "ref": "p-1"},
        "lines": None})
    await _send(env, h, EventType.RECEIPT_RETURNED, "e6", {"document": _doc(SHA_A)})
    await _send(env, h, EventType.RECEIPT_RETURNED, "e7", {"document": _doc(SHA_B)})
    await env.sleep(secs(STANDARD.survey_after) + SLACK)
    await _send(env, h, EventType.FOLLOW_UP_CALL, "e8", {
        "outcome": "no_answer", "goods_ok": None, "scores": None, "suggestions": None,
        "note": "voicemail"})
    assert await _send(env, h, EventType.FOLLOW_UP_CALL, "e9", {
        "outcome": "answered", "goods_ok": True, "scores": {"timeliness": 5, "courtesy": 4},
        "suggestions": None, "note": None}) == Stage.CLOSED
    await h.result()
    return "SO-GOLD-1"


async def _exceptions(env: WorkflowEnvironment, new: NewOrder) -> str:
    h = await new(Stage.RECEIVED, order_id="SO-GOLD-2")
    await _send(env, h, EventType.STOCK_SHORTAGE, "x1", {
        "lines": [{"sku": "SKU-1", "qty": 6}], "note": None})
    later = to_jsonable_python(await env.get_current_time() + secs(8 * 86400))
    await _send(env, h, EventType.SHORTAGE_DECISION, "x2", {
        "decision": "backorder", "decided_by": "Ms Zhang", "lines": None,
        "promised_ship_by": None, "promised_delivery_by": later, "note": None})
    await _send(env, h, EventType.CONFIRMED, "x3", {"by": "wms"})
    await _send(env, h, EventType.PICKED, "x4", FULL_PICK)
    await _send(env, h, EventType.SHIPPED, "x5", {
        "carrier": "SF Express", "tracking_no": "SF9", "vehicle": None, "driver": None,
        "lines": None})
    await _send(env, h, EventType.DELIVERY_EXCEPTION, "x6", {
        "reason": "weather", "text": "typhoon", "promised_delivery_by": None})
    await _send(env, h, EventType.DELIVERY_EXCEPTION, "x7", {
        "reason": "consignee_absent", "text": "closed", "promised_delivery_by": later})
    await _send(env, h, EventType.DELIVERED, "x8", {
        "signer": "Li Lei", "condition": "damaged", "pod": {"kind": "photo", "ref": "p-2"},
        "lines": [{"sku": "SKU-1", "qty": 9}, {"sku": "SKU-2", "qty": 4}]})
    await _send(env, h, EventType.RECEIPT_RETURNED, "x9", {"document": _doc(SHA_A)})
    await env.sleep(secs(STANDARD.survey_after) + SLACK)
    await _send(env, h, EventType.SURVEY_RESPONSE, "x10", {
        "goods_ok": False, "scores": {"timeliness": 1, "completeness": 2, "courtesy": 5},
        "suggestions": "pack better", "comment": None, "channel": "web"})
    return "SO-GOLD-2"


async def test_the_read_model_json_is_unchanged(ts_env: WorkflowEnvironment,
                                                new_order: NewOrder, sqlite_url: str) -> None:
    got = {"happy": _detail(sqlite_url, await _happy(ts_env, new_order)),
           "exceptions": _detail(sqlite_url, await _exceptions(ts_env, new_order))}
    if os.environ.get("WAYBILL_RECORD_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    assert got == json.loads(GOLDEN.read_text())
