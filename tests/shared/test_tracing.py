"""Traces (issue 16 §5): one event posted is one trace, HTTP request -> the update -> its
handler in the workflow -> the projection activity; off unless the OTEL_* variables say so.

The span tree is checked on the real stack (API in process, Temporal dev server, worker,
database) with the SDK's in-memory exporter.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

import logs
from config import Settings
from shared import tracing
from tests.support.api_harness import api_stack, created
from tests.support.polling import eventually
from worker import WORKFLOWS

OTEL_VARIABLES = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
                  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME",
                  "OTEL_RESOURCE_ATTRIBUTES")


@pytest.fixture
def otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No OTEL_* variable from the machine running the tests; the test sets its own."""
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


# -- on or off (unit) -------------------------------------------------------------------------


def test_traces_are_off_by_default(otel_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.trace_exporters == frozenset()
    assert tracing.tracer_provider(settings, "waybill-api") is None
    assert tracing.interceptors(None) == []


@pytest.mark.parametrize(("env", "exporters"), [
    ({"OTEL_TRACES_EXPORTER": "none"}, set()),
    ({"OTEL_TRACES_EXPORTER": "otlp"}, {"otlp"}),
    ({"OTEL_TRACES_EXPORTER": "otlp, console"}, {"otlp", "console"}),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, {"otlp"}),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, {"otlp"}),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_EXPORTER": "none"},
     set()),
    ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, set()),
])
def test_the_standard_variables_turn_traces_on(otel_env: pytest.MonkeyPatch, env: dict[str, str],
                                               exporters: set[str]) -> None:
    for name, value in env.items():
        otel_env.setenv(name, value)
    assert Settings().trace_exporters == exporters


def test_an_unknown_exporter_stops_start_up(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "jaegre")
    with pytest.raises(ValueError, match="jaegre"):
        Settings()


def test_the_provider_exports_where_the_variables_say(otel_env: pytest.MonkeyPatch) -> None:
    otel_env.setenv("OTEL_TRACES_EXPORTER", "otlp,console")
    provider = tracing.tracer_provider(Settings(), "waybill-worker")
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "waybill-worker"
        exporters = {type(p.span_exporter)  # type: ignore[attr-defined]
                     for p in provider._active_span_processor._span_processors}
        assert exporters == {OTLPSpanExporter, ConsoleSpanExporter}
        assert [type(i) for i in tracing.interceptors(provider)] == [
            tracing.EventTracingInterceptor]
    finally:
        provider.shutdown()
    otel_env.setenv("OTEL_SERVICE_NAME", "waybill-worker-eu")
    provider = tracing.tracer_provider(Settings(), "waybill-worker")
    assert provider is not None
    assert provider.resource.attributes["service.name"] == "waybill-worker-eu"
    provider.shutdown()


# -- one event, one trace (stack) -------------------------------------------------------------


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The access log's lines as the API writes them (logs.JsonFormatter)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("waybill.access")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


def _one(spans: list[ReadableSpan], name: str, trace_id: int) -> ReadableSpan:
    found = [s for s in spans if s.name == name and s.context is not None
             and s.context.trace_id == trace_id]
    assert len(found) == 1, (name, sorted(s.name for s in spans))
    return found[0]


def _is_child(child: ReadableSpan, parent: ReadableSpan) -> bool:
    assert child.parent is not None and parent.context is not None, child.name
    return child.parent.span_id == parent.context.span_id


@pytest.mark.one_engine  # no SQL under test
async def test_one_event_is_one_trace_from_the_request_to_the_projection(
        dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str, tmp_path: Path,
        spans: tuple[TracerProvider, InMemorySpanExporter], json_log: io.StringIO) -> None:
    provider, exporter = spans
    # The API's and the worker's client, traced as shared/temporal.connect makes it when on.
    client = Client(**{**dev_env.client.config(),
                       "interceptors": tracing.interceptors(provider)})
    async with api_stack(client, sqlite_url, task_queue, tmp_path,
                         tracer_provider=provider) as api:
        order_id = await created(api)
        exporter.clear()
        resp = await api.event(order_id, "confirmed")
        assert resp.status_code == 200, resp.text

        http = [s for s in exporter.get_finished_spans()
                if s.name == "POST /v1/orders/{order_id}/events"]
        assert len(http) == 1
        root = http[0]
        assert root.context is not None
        trace_id = root.context.trace_id

        async def projected() -> bool:
            return any(s.name == "RunActivity:project_order_change" and s.context is not None
                       and s.context.trace_id == trace_id
                       for s in exporter.get_finished_spans())
        await eventually(projected, timeout=10)
        finished = list(exporter.get_finished_spans())
        update = _one(finished, "StartWorkflowUpdate:apply_event", trace_id)
        validate = _one(finished, "ValidateUpdate:apply_event", trace_id)
        handle = _one(finished, "HandleUpdate:apply_event", trace_id)
        start = _one(finished, "StartActivity:project_order_change", trace_id)
        run = _one(finished, "RunActivity:project_order_change", trace_id)
        assert root.parent is None  # the request starts the trace
        assert _is_child(update, root) and _is_child(validate, update)
        assert _is_child(handle, update) and _is_child(start, handle) and _is_child(run, start)
        assert root.attributes is not None
        assert root.attributes["http.route"] == "/v1/orders/{order_id}/events"
        assert root.attributes["http.response.status_code"] == 200
        assert root.attributes["waybill.request_id"] == resp.headers["x-request-id"]
        assert run.attributes is not None
        assert run.attributes["temporalWorkflowID"] == f"order-{order_id}"

        # The request's log line names its request and its trace.
        lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
        line = next(e for e in lines if e.get("request_id") == resp.headers["x-request-id"])
        assert line["trace_id"] == f"{trace_id:032x}"
        assert line["span_id"] == f"{root.context.span_id:016x}"

        # Interceptors only add headers, never commands: the traced history replays, with or
        # without them.
        history = await client.get_workflow_handle(f"order-{order_id}").fetch_history()
        # (Payloads are encrypted: the replayer reads them with the client's codec.)
        converter = client.data_converter
        await Replayer(workflows=WORKFLOWS, interceptors=tracing.interceptors(provider),
                       data_converter=converter).replay_workflow(history)
        await Replayer(workflows=WORKFLOWS, data_converter=converter).replay_workflow(history)
