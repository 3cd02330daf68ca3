"""Traces (issue 16 §5): one event posted to the API is one trace, from its HTTP request through
the workflow update and the projection activity the update runs.

The Temporal side is the SDK's `TracingInterceptor` (client and worker); the HTTP side is
api/edge/traces.py. Off by default: with no exporter configured (config.py, the standard
OTEL_* variables) `tracer_provider` is None, so no interceptor, no request span and no exporter
thread (nor the exporter's own imports).

Framework-free: OpenTelemetry and Temporal only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import opentelemetry.context
import opentelemetry.trace
import temporalio.api.common.v1
import temporalio.worker
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, TracerProvider
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

from config import Settings

TRACER_NAME = "waybill"


def tracer_provider(settings: Settings, service: str) -> SdkTracerProvider | None:
    """The process's tracer provider, exporting as `settings` say; None when traces are off.

    `service` names the process (`waybill-api`, `waybill-worker`) unless OTEL_SERVICE_NAME or
    OTEL_RESOURCE_ATTRIBUTES name it. The caller shuts the provider down at exit (it flushes
    the spans still batched).
    """
    exporters = settings.trace_exporters
    if not exporters:
        return None
    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service}))
    provider = SdkTracerProvider(resource=resource)  # sampler: OTEL_TRACES_SAMPLER
    for name in sorted(exporters):
        exporter: SpanExporter
        if name == "otlp":
            # OTLP over HTTP/protobuf; endpoint, headers, timeout from OTEL_EXPORTER_OTLP_*.
            # Imported here: a process with traces off never loads it (requests, protobuf).
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            exporter = OTLPSpanExporter()
        else:
            exporter = ConsoleSpanExporter()
        # Batched on a thread of its own: a slow collector never holds up a request.
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def interceptors(provider: TracerProvider | None) -> list[TracingInterceptor]:
    """The Temporal client interceptors tracing needs (none when traces are off).

    Set on a client, they trace its calls and, on a worker built from that client, its
    workflows and activities too (the SDK carries them over to the worker).
    """
    if provider is None:
        return []
    return [EventTracingInterceptor(provider.get_tracer(TRACER_NAME))]


class EventTracingInterceptor(TracingInterceptor):
    """The SDK's interceptor, except that a workflow update is traced in its caller's trace.

    The SDK puts an update's handler span in the trace of the workflow's *start* (the order's
    creation, maybe days earlier) with only a link to the caller, so an event's projection
    would land in that old trace. Here the validator and handler spans are children of the
    client's update span, and what the handler starts (the projection activity) is a child of
    the handler span: one event, one trace. The subclassing is the SDK's documented way to
    customise it (see TracingInterceptor's docstring).
    """

    def workflow_interceptor_class(
            self, input: temporalio.worker.WorkflowInterceptorClassInput,
    ) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the span extern the class calls
        return UpdatesInCallersTrace


@dataclass
class _Headers:
    """What `_completed_span` writes the new span's context into (as into an outbound call)."""
    headers: Mapping[str, temporalio.api.common.v1.Payload] = field(default_factory=dict)


class UpdatesInCallersTrace(TracingWorkflowInboundInterceptor):
    """Workflow side of EventTracingInterceptor. Spans are only made when not replaying and
    only headers change, never commands, so histories replay the same with or without it."""

    def handle_update_validator(self, input: temporalio.worker.HandleUpdateInput) -> None:
        caller = self._caller_context(input.headers)
        if caller is None:  # an untraced caller (CLI, another tool): the SDK's behaviour
            super().handle_update_validator(input)
            return
        with self._attached(caller):
            self._completed_span(f"ValidateUpdate:{input.update}", kind=SpanKind.SERVER)
            self.next.handle_update_validator(input)

    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        caller = self._caller_context(input.headers)
        if caller is None:
            return await super().handle_update_handler(input)
        with self._attached(caller):
            made = _Headers()
            self._completed_span(f"HandleUpdate:{input.update}", add_to_outbound=made,
                                 kind=SpanKind.SERVER)
            # Replaying, no span was made: the caller's context stays current.
            handler = self._caller_context(made.headers) or caller
            with self._attached(handler):
                return await self.next.handle_update_handler(input)

    def _caller_context(self, headers: Mapping[str, temporalio.api.common.v1.Payload],
                        ) -> opentelemetry.context.Context | None:
        payload = headers.get(self.header_key)
        if not payload:
            return None
        carrier = self.payload_converter.from_payloads([payload])[0]
        if not carrier:
            return None
        context = self.text_map_propagator.extract(carrier)
        if not opentelemetry.trace.get_current_span(context).get_span_context().is_valid:
            return None
        return context

    @contextmanager
    def _attached(self, context: opentelemetry.context.Context) -> Iterator[None]:
        # With this interceptor on the context, as the SDK's own workflow contexts have it.
        token = opentelemetry.context.attach(self._set_on_context(context))
        try:
            yield
        finally:
            opentelemetry.context.detach(token)
