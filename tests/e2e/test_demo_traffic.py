"""The demo traffic generator, run for real against the app served by uvicorn with a Temporal
dev server and a worker: what a newcomer sees on the board, and that it stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from demo.provision import DEMO_POLICY_FILE, KEY_NAME, provision
from demo.traffic import DemoConfig, Generator
from policies import parse_duration
from tests.support.browser import served
from tests.support.dev_stack_harness import dev_stack, dev_stack_env, no_process_mentions
from tests.support.pg import free_port

pytestmark = [
    pytest.mark.e2e,  # the demo generator, `waybill demo` and `make run DEMO=1`
    pytest.mark.one_engine,  # no SQL of its own: the engines' SQL is tested elsewhere
]

SPEED = 30  # the demo policies 30 times shorter, the generator 30 times faster
BIN = Path(sys.executable).parent
_ISO = re.compile(r"^P(?:\d+[WD])*(?:T[\d.HMS]+)?$")


def _faster(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _faster(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_faster(v) for v in node]
    if isinstance(node, str) and _ISO.match(node):
        return f"PT{max(parse_duration(node) / SPEED, 1):g}S"
    return node


def fast_demo_policies(tmp_path: Path) -> Path:
    """policies/demo.yaml with every duration SPEED times shorter, under the same names."""
    path = tmp_path / "demo-fast.yaml"
    path.write_text(yaml.safe_dump(_faster(yaml.safe_load(DEMO_POLICY_FILE.read_text()))))
    return path


async def test_demo_traffic_fills_the_board_the_way_an_operation_would(
        dev_env: WorkflowEnvironment, db_url: str, task_queue: str, tmp_path: Path) -> None:
    key = provision(db_url, fast_demo_policies(tmp_path))
    async with served(dev_env, db_url, task_queue, tmp_path) as site:
        auth = {"Authorization": f"Bearer {site.keys['operator']}"}
        gen = Generator(DemoConfig(base_url=site.base, key=key, pace=1 / SPEED, max_orders=10,
                                   seed=5, max_seconds=90))
        started = time.monotonic()
        stats = await gen.run()
        assert time.monotonic() - started < 60
        assert stats["orders"] == 10 and stats["refused"] == 0, stats

        orders = (await site.http.get("/v1/orders", headers=auth,
                                      params={"limit": 200})).json()["items"]
        demo = [o for o in orders if o["order_id"].startswith("DEMO-")]
        assert len(demo) == 10
        assert {o["customer"]["tier"] for o in demo} == {"standard", "key_account"}
        assert len({o["customer"]["id"] for o in demo}) >= 4
        assert {o["sla_policy"]["name"] for o in demo} == {"demo_standard", "demo_key_account"}
        stages = Counter(o["stage"] for o in demo)
        assert stages["cancelled"] >= 1, stages
        delivered = [o for o in demo if o["delivery"]]
        assert len(delivered) >= 7, stages
        assert any(o["stage"] == "closed" and o["on_time"] for o in demo), stages

        # Late on purpose: breaches, and the escalation queue filled while it ran. A late step
        # resolved its escalation when it came at last; the stuck one had climbed by then.
        kinds = {b["kind"] for o in demo for b in o["breaches"]}
        assert {"confirm_late", "pick_late", "delivery_late", "receipt_late"} <= kinds, kinds
        escalations = (await site.http.get("/v1/escalations", headers=auth,
                                           params={"limit": 200})).json()["items"]
        assert {"confirm_late", "pick_late", "delivery_late"} <= {e["kind"] for e in escalations}
        stuck = max((e for e in escalations if e["kind"] == "confirm_late"),
                    key=lambda e: e["level"])
        assert stuck["level"] >= 2 and stuck["resolution_code"] == "condition_cleared", stuck
        # Still open when the traffic ends: the damaged delivery's claim and the low score's
        # complaint wait for people.
        still_open = (await site.http.get("/v1/escalations", headers=auth,
                                          params={"state": "open"})).json()["items"]
        assert {e["kind"] for e in still_open} >= {"claim_step_late", "complaint_step_late"}

        damaged = [o for o in demo if (o["delivery"] or {}).get("condition") == "damaged"]
        assert damaged and damaged[0]["claims"], damaged
        claims = (await site.http.get("/v1/claims", headers=auth, params={
            "order_id": damaged[0]["order_id"]})).json()["items"]
        assert claims and claims[0]["cause"] == "damaged"

        with_receipt = [o for o in demo if o["receipt"]]
        assert len(with_receipt) >= 5
        versions = (await site.http.get(f"/v1/orders/{with_receipt[0]['order_id']}/receipt/"
                                        "versions", headers=auth)).json()
        assert versions["items"][0]["sha256"]
        receipt = await site.http.get(f"/v1/orders/{with_receipt[0]['order_id']}/receipt",
                                      headers=auth)
        assert receipt.status_code == 200
        assert receipt.headers["content-type"] in ("application/pdf", "image/png")

        answered = [o for o in demo if (o["follow_up"] or {}).get("status") == "answered"]
        assert len(answered) >= 5
        assert any(min(o["follow_up"]["scores"].values()) <= 2 and o["complaints"]
                   for o in answered)
        assert any(o["decisions"] for o in demo)  # a shortage the customer decided on

        for order in demo:
            timeline = (await site.http.get(f"/v1/orders/{order['order_id']}/timeline",
                                            headers=auth)).json()["items"]
            # The order's own entries (the story also holds its escalations and notices).
            posted = [e for e in timeline if e["kind"] == "order" and e["source"] != "system"]
            assert posted and {e["actor"] for e in posted} == {KEY_NAME}, posted
            # An operator key: the demo also makes the desk's decisions (cancel, shortage).
            assert {e["source"] for e in posted} == {"operator"}


async def test_waybill_demo_refuses_without_its_policies_and_stops_on_sigterm(
        dev_env: WorkflowEnvironment, db_url: str, task_queue: str, tmp_path: Path) -> None:
    async with served(dev_env, db_url, task_queue, tmp_path) as site:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
        env.update(WAYBILL_LOG_LEVEL="INFO", WAYBILL_DATA_DIR=str(tmp_path / "unused"))
        # Against an API whose database has no demo policies: a clear error, nothing created.
        refused = await asyncio.to_thread(subprocess.run, [
            str(BIN / "waybill"), "demo", "--api-url", site.base, "--pace", "0.05"],
            env={**env, "WAYBILL_DEMO_KEY": site.keys["integration"]}, capture_output=True,
            text=True, timeout=60)
        assert refused.returncode == 2, refused.stderr
        assert "demo_" in refused.stderr and "policies/demo.yaml" in refused.stderr

        env["WAYBILL_DEMO_KEY"] = provision(db_url)
        log_path = tmp_path / "demo.log"
        with log_path.open("wb") as log_file:
            proc = subprocess.Popen([str(BIN / "waybill"), "demo", "--api-url", site.base,
                                     "--pace", "0.2"], env=env, stderr=log_file)
            try:
                deadline = time.monotonic() + 30
                while '"demo event"' not in log_path.read_text():
                    assert proc.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    await asyncio.sleep(0.2)
                proc.send_signal(signal.SIGTERM)
                stopped = time.monotonic()
                while proc.poll() is None and time.monotonic() - stopped < 5:
                    await asyncio.sleep(0.1)
                assert proc.poll() == 0, log_path.read_text()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert '"reason": "stopped"' in log_path.read_text()
        assert not (tmp_path / "unused").exists()  # with a key it touches no database
        orders = (await site.http.get("/v1/orders", headers={
            "Authorization": f"Bearer {site.keys['auditor']}"})).json()["items"]
        assert any(o["order_id"].startswith("DEMO-") for o in orders)


def test_make_run_demo_starts_the_traffic_and_ctrl_c_stops_all_of_it(tmp_path: Path) -> None:
    ports = {"api": free_port(), "temporal": free_port(), "ui": free_port()}
    env, api = {**dev_stack_env(tmp_path, ports), "WAYBILL_DEMO": "1"}, \
        f"http://127.0.0.1:{ports['api']}"
    key = subprocess.run([str(BIN / "waybill"), "keys", "create", "--role", "auditor",
                          "--name", "newcomer"], env=env, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    with dev_stack(env, api) as proc:
        deadline, demo = time.monotonic() + 30, []
        while not demo:
            assert time.monotonic() < deadline, "no demo order appeared"
            time.sleep(0.5)
            try:
                orders = httpx.get(f"{api}/v1/orders",
                                   headers={"Authorization": f"Bearer {key}"})
            except httpx.TransportError:
                # `waybill dev` stops everything when a child exits: say which, and why.
                assert proc.poll() is None, proc.stdout.read().decode()  # type: ignore[union-attr]
                raise
            demo = [o for o in orders.json()["items"] if o["order_id"].startswith("DEMO-")]
        assert demo[0]["sla_policy"]["name"] in ("demo_standard", "demo_key_account")
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=40) == 0
        banner = proc.stdout.read().decode()  # type: ignore[union-attr]
    assert "demo traffic" in banner and KEY_NAME in banner
    assert no_process_mentions(str(tmp_path))
