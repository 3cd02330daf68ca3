"""The console's raw-history view and export show an order's payloads decrypted to auditors,
while Temporal holds them encrypted (issue 17 §4; shared/codec.py)."""

from __future__ import annotations

import base64
import json

import pytest

from shared.codec import ENCODING
from tests.support.api_harness import Api, created
from tests.support.console_harness import sign_in
from workflows.ids import order_workflow_id

pytestmark = pytest.mark.one_engine  # no SQL under test


async def test_the_history_export_shows_the_payloads_decrypted(api: Api) -> None:
    order_id = await created(api)
    stored = await api.temporal.get_workflow_handle(order_workflow_id(order_id)).fetch_history()
    sealed = stored.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert sealed.metadata["encoding"] == ENCODING

    await sign_in(api.http, api.keys["auditor"])
    export = await api.http.get(f"/console/audit/orders/{order_id}/history.jsonl")
    assert export.status_code == 200
    first = json.loads(export.text.splitlines()[0])["event"]
    [payload] = first["workflow_execution_started_event_attributes"]["input"]["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    assert "Sanghong Apparel" in base64.b64decode(payload["data"]).decode()
    page = await api.http.get(f"/console/audit/orders/{order_id}")
    assert page.status_code == 200
    assert base64.b64encode(ENCODING).decode().rstrip("=") not in page.text
