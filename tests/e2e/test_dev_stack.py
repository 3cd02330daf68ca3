"""`waybill dev` (what `make run` starts), as a newcomer uses it: real ports, CLI keys, Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.builders import policy_yaml
from tests.support.dev_stack_harness import (
    BIN,
    dev_stack,
    dev_stack_env,
    no_process_mentions,
    wait_ready,
)
from tests.support.pg import free_port

pytestmark = pytest.mark.e2e  # each test runs `waybill dev` as a child process


def test_dev_stack_runs_an_order_survives_restart_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    env, api = dev_stack_env(tmp_path, ports), f"http://127.0.0.1:{ports['api']}"
    key = subprocess.run([str(BIN / "waybill"), "keys", "create", "--role", "integration",
                          "--name", "wms"], env=env, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {key}"}
    now = datetime.now(UTC)
    order = {"order_id": "SO-DEV-1", "customer": {"id": "C-1", "name": "Acme"},
             "lines": [{"sku": "S-1", "qty": 2}], "destination": {"address": "1 Road"},
             "promised_ship_by": (now + timedelta(days=1)).isoformat(),
             "promised_delivery_by": (now + timedelta(days=2)).isoformat()}

    with dev_stack(env, api) as proc:
        assert httpx.post(f"{api}/v1/orders", json=order, headers=auth).status_code == 201
        # Metrics are on by default under `waybill dev`: the API counts what it just did.
        scraped = httpx.get(f"http://127.0.0.1:{env['WAYBILL_API_METRICS_PORT']}/metrics").text
        assert "waybill_http_requests_total" in scraped
        time.sleep(3)  # confirm_within is PT2S: watch the breach happen
        view = httpx.get(f"{api}/v1/orders/SO-DEV-1", headers=auth).json()
        assert view["breached"] is True and view["breaches"][0]["kind"] == "confirm_late"
        for i, (type_, data) in enumerate([
                ("confirmed", {}), ("picked", {"lines": [{"sku": "S-1", "qty": 2}]}),
                ("shipped", {"carrier": "SF", "tracking_no": "SF1"})]):
            resp = httpx.post(f"{api}/v1/orders/SO-DEV-1/events", headers=auth, json={
                "event_id": f"e{i}", "type": type_, "occurred_at": now.isoformat(),
                "data": data})
            assert resp.status_code == 200, resp.text
        # Visibility is eventually consistent, and a loaded machine slows the CLI: poll.
        listed = ""
        for _ in range(15):
            run = subprocess.run(
                [str(BIN / "temporal"), "workflow", "list", "--address",
                 f"127.0.0.1:{ports['temporal']}", "--query", "WaybillStage='in_transit'"],
                capture_output=True, text=True)
            listed = run.stdout + run.stderr
            if run.returncode == 0 and "order-SO-DEV-1" in run.stdout:
                break
            time.sleep(1)
        assert "order-SO-DEV-1" in listed, listed
        assert httpx.get(f"http://127.0.0.1:{ports['ui']}/", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=40) == 0
    assert no_process_mentions(str(tmp_path))

    with dev_stack(env, api):
        view = httpx.get(f"{api}/v1/orders/SO-DEV-1", headers=auth).json()
        assert view["stage"] == "in_transit"
        resp = httpx.post(f"{api}/v1/orders/SO-DEV-1/events", headers=auth, json={
            "event_id": "e9", "type": "delivered", "occurred_at": datetime.now(UTC).isoformat(),
            "data": {"signer": "Li", "condition": "intact",
                     "pod": {"kind": "photo", "ref": "p1"}}})
        assert resp.status_code == 200 and resp.json()["stage"] == "delivered"
    assert no_process_mentions(str(tmp_path))


def test_bad_policy_file_stops_start_up_naming_file_policy_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(policy_yaml(confirm_within="tomorrow").replace("standard:", "rush:"))
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    env = {**dev_stack_env(tmp_path, ports), "WAYBILL_SLA_POLICIES": str(bad)}
    result = subprocess.run([str(BIN / "waybill"), "dev"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert str(bad) in result.stderr and "rush" in result.stderr
    assert "confirm_within" in result.stderr


def _ports() -> dict[str, int]:
    return {"api": free_port(), "temporal": free_port(), "ui": free_port()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize(("taken", "line"), [
    ("api", "API port {port} is taken: set WAYBILL_API_PORT"),
    ("temporal", "Temporal port {port} is taken: set WAYBILL_TEMPORAL_PORT, or "
                 "WAYBILL_TEMPORAL_ADDRESS to use the Temporal listening there"),
    ("ui", "Temporal UI port {port} is taken: set WAYBILL_TEMPORAL_UI_PORT"),
])
def test_a_taken_port_stops_start_up_with_one_line_before_anything_starts(
        tmp_path: Path, taken: str, line: str) -> None:
    ports = _ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports[taken]))
        holder.listen()
        result = subprocess.run([str(BIN / "waybill"), "dev"], env=dev_stack_env(tmp_path, ports),
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    # Only the line: nothing started, so nothing else (no Temporal log, no traceback) is said.
    assert result.stderr.strip().splitlines() == [
        f"waybill: {line.format(port=ports[taken])}"], result.stderr
    assert "Traceback" not in result.stdout
    assert no_process_mentions(str(tmp_path))


def test_the_same_port_twice_is_refused_up_front(tmp_path: Path) -> None:
    ports = _ports()
    ports["ui"] = ports["api"]
    result = subprocess.run([str(BIN / "waybill"), "dev"], env=dev_stack_env(tmp_path, ports),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"waybill: the Temporal UI port and the API port are both {ports['api']}: "
        "set WAYBILL_API_PORT"], result.stderr


def test_a_child_that_dies_stops_the_rest_with_one_line(tmp_path: Path) -> None:
    ports = _ports()
    env, api = dev_stack_env(tmp_path, ports), f"http://127.0.0.1:{ports['api']}"
    output = tmp_path / "dev.log"
    with output.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "waybill"), "dev"], env=env, stdout=out, stderr=out)
    try:
        wait_ready(proc, api, output)
        ps = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(proc.pid)],
                            capture_output=True, text=True, check=True).stdout
        children = {int(pid): args for pid, args in
                    (line.strip().split(" ", 1) for line in ps.splitlines())}
        assert len(children) == 3, children  # temporal, worker, api
        api_pid = next(pid for pid, args in children.items() if args.endswith("cli api"))
        os.kill(api_pid, signal.SIGKILL)
        assert proc.wait(timeout=40) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = output.read_text()
    assert "waybill: the API was killed by SIGKILL; stopping everything else" in text, text
    assert "Traceback" not in text
    assert not [pid for pid in children if _alive(pid)]
    assert no_process_mentions(str(tmp_path))
