"""The metrics endpoint of a process: served from its own thread, and a taken port said in one
line naming the setting to change."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from observability.serving import MetricsPortTaken, sdk_runtime, serve


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_no_port_serves_nothing() -> None:
    assert serve("127.0.0.1", None, [], "WAYBILL_API_METRICS_PORT") is None
    assert sdk_runtime("127.0.0.1", None, "WAYBILL_API_TEMPORAL_METRICS_PORT") is None


def test_the_endpoint_serves_waybills_metrics_until_stopped() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    endpoint = serve("127.0.0.1", port, [], "WAYBILL_API_METRICS_PORT")
    assert endpoint is not None
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "waybill_db_pool_timeouts_total" in text
    finally:
        endpoint.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)


def test_a_taken_port_names_its_setting(taken_port: int) -> None:
    with pytest.raises(MetricsPortTaken, match="set WAYBILL_WORKER_METRICS_PORT"):
        serve("127.0.0.1", taken_port, [], "WAYBILL_WORKER_METRICS_PORT")
    with pytest.raises(MetricsPortTaken, match="set WAYBILL_WORKER_TEMPORAL_METRICS_PORT"):
        sdk_runtime("127.0.0.1", taken_port, "WAYBILL_WORKER_TEMPORAL_METRICS_PORT")
