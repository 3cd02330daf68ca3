"""`waybill replay` against a running Temporal: the histories of orders run by this code replay
(exit 0); OrderWorkflow changed in place makes it exit 1 naming each order's workflow; a check
that cannot run exits 3."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.support.api_harness import StackFactory, created, policy_file
from tests.support.builders import FULL_PICK, POD, SHIP, SURVEY, policy_yaml
from tests.support.codec import TEST_KEYS
from tests.support.polling import eventually

pytestmark = pytest.mark.one_engine  # no SQL under test: the histories are Temporal's

BIN = Path(sys.executable).parent
CARELESS = ("import worker; from tests.support.careless_order import swap_into; "
            "swap_into(worker); import cli; cli.app()")


async def waybill(env: WorkflowEnvironment, *args: str,
                  careless: bool = False) -> tuple[int, str, str]:
    """Run the command in its own process against `env`'s server: (exit status, out, err)."""
    command = ([sys.executable, "-c", CARELESS] if careless else [str(BIN / "waybill")])
    environ = {k: v for k, v in os.environ.items() if not k.startswith("WAYBILL_")}
    environ.update(WAYBILL_TEMPORAL_ADDRESS=env.client.service_client.config.target_host,
                   WAYBILL_LOG_LEVEL="WARNING", PYTHONPATH=str(Path(__file__).parents[1]),
                   # the key the tests' servers encrypt with (tests/support/codec.py)
                   WAYBILL_TEMPORAL_CODEC_KEYS=TEST_KEYS)
    proc = await asyncio.create_subprocess_exec(
        *command, *args, env=environ, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_replay_passes_on_this_code_and_names_orders_a_changed_workflow_breaks(
        make_stack: StackFactory, dev_env: WorkflowEnvironment, db_url: str, task_queue: str,
        tmp_path: Path) -> None:
    async with make_stack(db_url, policy=policy_file(
            tmp_path, policy_yaml(survey_after="PT1S"))) as api:
        closed, cancelled, open_ = [await created(api) for _ in range(3)]
        for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                            ("delivered", POD), ("receipt_returned", api.archived_receipt())):
            assert (await api.event(closed, type_, data)).status_code == 200
        assert (await api.event(cancelled, "cancelled", {"reason": "customer withdrew"},
                                role="operator")).status_code == 200
        assert (await api.event(open_, "confirmed", {})).status_code == 200

        async def survey_due() -> bool:
            view = (await api.get(f"/v1/orders/{closed}")).json()
            return (view["follow_up"] or {}).get("status") == "due"

        await eventually(survey_due)
        assert (await api.event(closed, "survey_response", SURVEY)).json()["stage"] == "closed"

    mine = f"TaskQueue = '{task_queue}'"
    orders = f"{mine} AND WorkflowType = 'OrderWorkflow'"

    async def listed() -> bool:  # visibility trails the server a little
        running = [w.id async for w in dev_env.client.list_workflows(
            f"{orders} AND ExecutionStatus = 'Running'")]
        done = [w.id async for w in dev_env.client.list_workflows(
            f"{orders} AND ExecutionStatus != 'Running'")]
        return running == [f"order-{open_}"] and len(done) == 2

    await eventually(listed)

    status, out, err = await waybill(dev_env, "replay", "--since", "1h", "--query", mine)
    assert status == 0, out + err
    assert "OrderWorkflow: 3 replayed, 0 failed of 3 selected  ok" in out
    assert "FAILED" not in out and "non-deterministic" not in err

    status, out, err = await waybill(dev_env, "replay", "--since", "1h", "--query", mine,
                                     careless=True)
    assert status == 1, out + err
    assert "OrderWorkflow: 0 replayed, 3 failed of 3 selected  FAILED" in out
    for order_id in (closed, cancelled, open_):
        assert f"non-deterministic: OrderWorkflow order-{order_id} " in err
    assert "NondeterminismError: [TMPRL1100] Nondeterminism error" in err
    assert "Traceback" not in err  # the report, not the SDK's per-history warnings

    # A filter the server refuses is "could not check" (3), never a pass or a code failure.
    status, out, err = await waybill(dev_env, "replay", "--query", "NoSuchAttribute = 'x'")
    assert status == 3 and "Temporal refused:" in err, out + err
