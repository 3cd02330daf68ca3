"""Personal data encrypted in Temporal (issue 17 §4), on a real dev server, worker and API: the
history Temporal holds, read raw and through the Temporal CLI, shows none of the customer's data;
the API, the auditor's history view and the codec endpoint (auditors and admins, the Temporal UI's
origin only) still show it."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from shared.codec import ENCODING
from tests.support.api_harness import Api, error_code, order_body
from tests.support.pg import free_port
from tests.support.polling import eventually
from workflows.ids import order_workflow_id
from workflows.order.workflow import OrderWorkflow

pytestmark = [pytest.mark.one_engine, pytest.mark.shared_stack]  # no SQL under test

UI_ORIGIN = "http://ui.waybill.test:8233"
MAX_PAYLOADS = 5


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"codec_cors_origin": UI_ORIGIN, "codec_max_payloads": MAX_PAYLOADS,
            "codec_max_payload_bytes": 64 * 1024}


def personal_order() -> tuple[dict[str, Any], list[str]]:
    """An order whose customer data is unmistakable, and those values (the CLI prints
    non-ASCII text as it is, so the Chinese name is looked for too)."""
    tag = uuid.uuid4().hex[:6]
    body = order_body(order_id=f"SO-PII-{tag}")
    body["customer"].update(name=f"张伟 Zhang Wei {tag}", phone=f"+86 138 0013 {tag[:4]}",
                            email=f"zhang.wei.{tag}@example.cn")
    body["destination"].update(address=f"88 Century Ave {tag}", contact=f"Li Lei {tag}")
    pii = [body["customer"]["name"], "张伟", body["customer"]["phone"],
           body["customer"]["email"], body["destination"]["address"],
           body["destination"]["contact"]]
    return body, pii


async def run_order(api: Api) -> tuple[str, list[str]]:
    body, pii = personal_order()
    resp = await api.create(body)
    assert resp.status_code == 201, resp.text
    resp = await api.event(body["order_id"], "confirmed")
    assert resp.status_code == 200, resp.text  # an update result, read through the codec
    return body["order_id"], pii


def cli() -> str:
    return shutil.which("temporal") or str(Path(sys.prefix) / "bin" / "temporal")


def show(workflow_id: str, target: str, *args: str) -> str:
    return subprocess.run([cli(), "workflow", "show", "-w", workflow_id, "--address", target,
                           *args], capture_output=True, text=True, timeout=60,
                          check=True).stdout


def payload_texts(node: Any) -> list[str]:
    """Every payload's data in a history in Temporal's JSON form, base64-decoded."""
    if isinstance(node, list):
        return [text for item in node for text in payload_texts(item)]
    if not isinstance(node, dict):
        return []
    found = []
    if isinstance(node.get("metadata"), dict) and isinstance(node.get("data"), str):
        found.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
    return found + [text for value in node.values() for text in payload_texts(value)]


async def test_temporal_holds_no_personal_data_yet_the_api_and_auditors_see_it(
        api: Api) -> None:
    order_id, pii = await run_order(api)
    workflow_id = order_workflow_id(order_id)

    # Raw, as the server stores it: the client's fetch does not decode.
    history = await api.temporal.get_workflow_handle(workflow_id).fetch_history()
    stored = b"".join(e.SerializeToString() for e in history.events)
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.input.payloads[0].metadata["encoding"] == ENCODING
    for value in pii:
        assert value.encode() not in stored, value

    # Through the Temporal CLI, as anyone with access to the server reads it: its JSON (whose
    # payload data is base64, looked into too) and its text view (which prints JSON payloads).
    target = api.temporal.service_client.config.target_host
    as_json_text = show(workflow_id, target, "-o", "json")
    assert json.loads(as_json_text)["events"] and payload_texts(json.loads(as_json_text))
    as_text = show(workflow_id, target)
    assert "WorkflowExecutionStarted" in as_text.replace(" ", "")
    for value in pii:
        assert value not in as_json_text and value not in as_text, value
        assert not any(value in text for text in payload_texts(json.loads(as_json_text))), value

    # The API shows the order as it was sent.
    view = (await api.get(f"/v1/orders/{order_id}")).json()
    assert view["customer"]["name"] == pii[0]

    # The auditor's raw history view shows the payloads decrypted.
    resp = await api.get(f"/v1/orders/{order_id}/history", role="auditor")
    assert resp.status_code == 200, resp.text
    first = resp.json()["events"][0]["workflowExecutionStartedEventAttributes"]
    [payload] = first["input"]["payloads"]
    assert base64.b64decode(payload["metadata"]["encoding"]) == b"json/plain"
    text = base64.b64decode(payload["data"]).decode()
    for value in pii:
        assert value in text, value


async def test_the_temporal_cli_decodes_through_the_endpoint_with_an_auditor_key(
        api: Api) -> None:
    """The codec server protocol as Temporal's own client speaks it (`--codec-endpoint`)."""
    order_id, pii = await run_order(api)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    try:
        async def started() -> bool:
            return server.started

        await eventually(started, timeout=30)
        proc = await asyncio.create_subprocess_exec(
            cli(), "workflow", "show", "-w", order_workflow_id(order_id), "-o", "json",
            "--address", api.temporal.service_client.config.target_host,
            "--codec-endpoint", f"http://127.0.0.1:{port}/codec",
            "--codec-auth", f"Bearer {api.keys['auditor']}",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        server.should_exit = True
        await serving
    assert proc.returncode == 0, err.decode()
    texts = payload_texts(json.loads(out))
    assert any(pii[0] in text for text in texts)


async def sealed_input(api: Api) -> tuple[dict[str, Any], list[str]]:
    """The order's start input as Temporal holds it, in the codec protocol's JSON form."""
    order_id, pii = await run_order(api)
    history = await api.temporal.get_workflow_handle(order_workflow_id(order_id)) \
        .fetch_history()
    payload = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    return as_json(payload), pii


def as_json(payload: Payload) -> dict[str, Any]:
    return {"metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
            "data": base64.b64encode(payload.data).decode()}


async def codec_call(api: Api, action: str, payloads: list[dict[str, Any]],
                     role: str | None = "auditor", **headers: str) -> Any:
    sent = {**(api.auth(role) if role else {}), **headers}
    return await api.http.post(f"/codec/{action}", json={"payloads": payloads}, headers=sent)


async def test_the_codec_endpoint_decodes_for_auditors_and_admins_only(api: Api) -> None:
    sealed, pii = await sealed_input(api)
    for role in ("auditor", "admin"):
        resp = await codec_call(api, "decode", [sealed], role, **{"X-Namespace": "default"})
        assert resp.status_code == 200, resp.text
        [opened] = resp.json()["payloads"]
        assert base64.b64decode(opened["metadata"]["encoding"]) == b"json/plain"
        assert pii[0] in base64.b64decode(opened["data"]).decode()
    for role in ("operator", "supervisor", "integration"):
        resp = await codec_call(api, "decode", [sealed], role)
        assert resp.status_code == 403 and error_code(resp) == "forbidden", role
    resp = await codec_call(api, "decode", [sealed], role=None)
    assert resp.status_code == 401


async def test_encode_is_for_admins_and_round_trips(api: Api) -> None:
    clear = as_json(Payload(metadata={"encoding": b"json/plain"}, data=b'"hello"'))
    assert (await codec_call(api, "encode", [clear], "auditor")).status_code == 403
    resp = await codec_call(api, "encode", [clear], "admin")
    assert resp.status_code == 200, resp.text
    [sealed] = resp.json()["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == ENCODING
    back = (await codec_call(api, "decode", [sealed])).json()["payloads"]
    assert back == [clear]
    # A payload not written by the codec comes back as it is.
    assert (await codec_call(api, "decode", [clear])).json()["payloads"] == [clear]


async def test_bad_input_is_refused_with_its_code(api: Api) -> None:
    tiny = as_json(Payload(metadata={"encoding": b"json/plain"}, data=b"1"))
    resp = await codec_call(api, "decode", [tiny] * (MAX_PAYLOADS + 1))
    assert resp.status_code == 422 and error_code(resp) == "too_many_payloads"
    resp = await codec_call(api, "decode", [{"data": "not base64!"}])
    assert resp.status_code == 422 and error_code(resp) == "invalid_payload"
    big = as_json(Payload(data=b"x" * (64 * 1024 + 1)))
    resp = await codec_call(api, "decode", [big])
    assert resp.status_code == 413 and error_code(resp) == "payload_too_large"
    forged = as_json(Payload(metadata={"encoding": ENCODING, "encryption-key-id": b"test-1"},
                             data=b"\0" * 40))
    resp = await codec_call(api, "decode", [forged])
    assert resp.status_code == 422 and error_code(resp) == "payload_not_decodable"
    resp = await codec_call(api, "decode", [tiny], **{"X-Namespace": "other"})
    assert resp.status_code == 422 and error_code(resp) == "namespace_not_served"
    resp = await api.http.post("/codec/decode", json={"payloads": "x"},
                               headers=api.auth("auditor"))
    assert resp.status_code == 422 and error_code(resp) == "validation_error"


async def test_cors_answers_the_temporal_ui_origin_only(api: Api) -> None:
    preflight = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-namespace"}
    ok = await api.http.options("/codec/decode", headers={"Origin": UI_ORIGIN, **preflight})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "x-namespace" in ok.headers["access-control-allow-headers"].lower()

    for origin in ("http://evil.example", "http://ui.waybill.test:9999", "null"):
        refused = await api.http.options("/codec/decode",
                                         headers={"Origin": origin, **preflight})
        assert refused.status_code == 403 and error_code(refused) == "origin_not_allowed"
        assert "access-control-allow-origin" not in refused.headers
    tiny = as_json(Payload(metadata={"encoding": b"json/plain"}, data=b"1"))
    resp = await codec_call(api, "decode", [tiny], Origin="http://evil.example")
    assert resp.status_code == 403 and error_code(resp) == "origin_not_allowed"

    # The UI's real call, from its origin: the answer carries the header the browser needs.
    resp = await codec_call(api, "decode", [tiny], Origin=UI_ORIGIN)
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == UI_ORIGIN
    # Other routes get no CORS at all.
    other = await api.http.options("/v1/orders", headers={"Origin": UI_ORIGIN, **preflight})
    assert "access-control-allow-origin" not in other.headers


async def test_queries_read_through_the_codec_and_not_without_it(api: Api) -> None:
    """The API's client reads a query's answer; one with only Temporal access gets ciphertext
    it cannot turn into the order."""
    order_id, _ = await run_order(api)
    handle = api.temporal.get_workflow_handle(order_workflow_id(order_id))
    state = await handle.query(OrderWorkflow.state)
    assert state.order_id == order_id
    config = api.temporal.config()
    config.pop("data_converter")
    bare = Client(**config)  # the SDK's default converter, no codec
    with pytest.raises(Exception, match="encoding"):
        await bare.get_workflow_handle(handle.id).query(OrderWorkflow.state)


async def test_the_temporal_ui_decodes_with_the_console_session_of_an_auditor(api: Api) -> None:
    """The Web UI sends no key: with credentials included, the browser's console session
    admits it under /console/codec/, from the UI's origin only."""
    from tests.support.console_harness import sign_in

    sealed, pii = await sealed_input(api)
    async with httpx.AsyncClient(transport=api.http._transport, base_url="http://waybill") as ui:
        call = {"json": {"payloads": [sealed]}, "headers": {"Origin": UI_ORIGIN}}
        signed_out = await ui.post("/console/codec/decode", **call)
        assert signed_out.status_code == 401 and error_code(signed_out) == "unauthorized"
        assert signed_out.headers["access-control-allow-credentials"] == "true"

        assert (await sign_in(ui, api.keys["operator"])).status_code == 303
        refused = await ui.post("/console/codec/decode", **call)
        assert refused.status_code == 403 and error_code(refused) == "forbidden"

        assert (await sign_in(ui, api.keys["auditor"])).status_code == 303
        preflight = await ui.options("/console/codec/decode", headers={
            "Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-credentials"] == "true"
        resp = await ui.post("/console/codec/decode", **call)
        assert resp.status_code == 200, resp.text
        assert resp.headers["access-control-allow-origin"] == UI_ORIGIN
        [opened] = resp.json()["payloads"]
        assert pii[0] in base64.b64decode(opened["data"]).decode()
        # The cookie goes with any request: one without the UI's origin never reaches it.
        for headers in ({}, {"Origin": "http://evil.example"}):
            resp = await ui.post("/console/codec/decode", json={"payloads": [sealed]},
                                 headers=headers)
            assert resp.status_code == 403 and error_code(resp) == "origin_not_allowed"
        assert (await ui.post("/console/codec/encode", **call)).status_code == 403  # admins
