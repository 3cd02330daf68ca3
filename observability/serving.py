"""The per-process metrics endpoints: Waybill's (prometheus_client, in a thread of its own) and
the Temporal SDK's (its Rust core's Prometheus server, set up through the client's Runtime)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

log = logging.getLogger("waybill.metrics")

# The Temporal SDK's metrics deploy/ relies on, as sdk_runtime exports them (seconds, `_total`);
# tests/observability/test_metrics_endpoints.py checks the running processes export each.
SDK_METRICS = (
    "temporal_workflow_task_schedule_to_start_latency",  # a workflow task waiting for a worker
    "temporal_workflow_task_execution_latency",
    "temporal_activity_schedule_to_start_latency",
    "temporal_activity_execution_latency",
    "temporal_worker_task_slots_used",
    "temporal_request_total",  # the client's calls (start, query, signal)
    "temporal_long_request_total",  # calls that wait: updates, polls
    "temporal_long_request_latency",  # an update's round trip from the API
)


class MetricsPortTaken(RuntimeError):
    """A metrics port cannot be bound: a configuration error, said in one line at start-up."""


class _Everything(Collector):
    """The process's default registry (Waybill's counters, process and GC metrics), served
    next to one endpoint's own collectors (its engine's pool, its database counts)."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


@dataclass
class Endpoint:
    server: Any
    thread: Any

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(host: str, port: int | None, collectors: Iterable[Collector], setting: str
          ) -> Endpoint | None:
    """Serve /metrics on host:port from a daemon thread (so a scrape's SQL never runs on an
    event loop); None when no port is set. `setting` names the port's variable for the error
    a taken port gives."""
    if port is None:
        return None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Everything())
    for collector in collectors:
        registry.register(collector)
    try:
        server, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise MetricsPortTaken(f"metrics port {host}:{port} cannot be bound ({exc.strerror}): "
                               f"set {setting}") from None
    log.info("metrics served", extra={"address": f"{host}:{port}"})
    return Endpoint(server, thread)


def sdk_runtime(host: str, port: int | None, setting: str) -> Runtime | None:
    """A Temporal Runtime exporting the SDK's own metrics (worker task latencies, polls, client
    requests) on host:port; None (the default runtime) when no port.

    Durations in seconds and counters ending in `_total`, as Waybill's own metrics are, so the
    alert rules and the dashboard read both alike (e.g. `temporal_request_total`).
    """
    if port is None:
        return None
    try:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
            bind_address=f"{host}:{port}", durations_as_seconds=True,
            counters_total_suffix=True)))
    except ValueError as exc:  # the SDK's core reports a bind failure so
        raise MetricsPortTaken(f"temporal sdk metrics port {host}:{port} cannot be bound "
                               f"({exc}): set {setting}") from None
    log.info("temporal sdk metrics served", extra={"address": f"{host}:{port}"})
    return runtime
