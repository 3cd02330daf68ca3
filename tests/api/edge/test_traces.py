"""Request spans (api/edge/traces.py): named by the route, the request's status on them, a
caller's trace continued; none while traces are off. One event's whole trace, through Temporal,
is checked on the real stack in tests/shared/test_tracing.py."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from api.edge.request_id import RequestIdMiddleware
from api.edge.traces import TraceMiddleware

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def app_with(exporter: InMemorySpanExporter, traced: bool = True) -> FastAPI:
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "missing":
            raise HTTPException(404)
        if thing_id == "broken":
            raise HTTPException(503)
        return {"id": thing_id}

    @app.get("/s/{token}")
    def survey(token: str) -> dict[str, str]:
        return {}

    app.add_middleware(TraceMiddleware)
    app.add_middleware(RequestIdMiddleware)
    if traced:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        app.state.tracer = provider.get_tracer("test")
    return app


async def get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://waybill") as http:
        return await http.get(path, headers=headers)


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    spans = exporter.get_finished_spans()
    assert len(spans) == 1, spans
    return spans[0]


async def test_a_request_is_a_span_named_by_its_route(exporter: InMemorySpanExporter) -> None:
    resp = await get(app_with(exporter), "/v1/things/T-1")
    span = only_span(exporter)
    assert span.name == "GET /v1/things/{thing_id}"
    assert span.parent is None
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET", "url.path": "/v1/things/T-1",
        "http.route": "/v1/things/{thing_id}", "http.response.status_code": 200,
        "waybill.request_id": resp.headers["x-request-id"]}
    assert span.status.status_code == StatusCode.UNSET


async def test_only_a_server_error_marks_the_span_failed(exporter: InMemorySpanExporter) -> None:
    app = app_with(exporter)
    assert (await get(app, "/v1/things/missing")).status_code == 404
    assert only_span(exporter).status.status_code == StatusCode.UNSET
    exporter.clear()
    assert (await get(app, "/v1/things/broken")).status_code == 503
    span = only_span(exporter)
    assert span.status.status_code == StatusCode.ERROR
    assert (span.attributes or {})["http.response.status_code"] == 503


async def test_a_callers_trace_is_continued(exporter: InMemorySpanExporter) -> None:
    await get(app_with(exporter), "/v1/things/T-1",
              traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01")
    span = only_span(exporter)
    assert span.context is not None and span.parent is not None
    assert f"{span.context.trace_id:032x}" == CALLER_TRACE
    assert f"{span.parent.span_id:016x}" == CALLER_SPAN


async def test_a_survey_token_stays_out_of_the_span(exporter: InMemorySpanExporter) -> None:
    await get(app_with(exporter), "/s/secret-token-of-the-customer")
    span = only_span(exporter)
    assert "secret" not in str(dict(span.attributes or {}))
    assert (span.attributes or {})["url.path"] == "/s/<token>"


async def test_health_probes_make_no_spans(exporter: InMemorySpanExporter) -> None:
    app = app_with(exporter)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    assert (await get(app, "/healthz")).status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_no_span_while_traces_are_off(exporter: InMemorySpanExporter) -> None:
    resp = await get(app_with(exporter, traced=False), "/v1/things/T-1")
    assert resp.status_code == 200
    assert exporter.get_finished_spans() == ()
