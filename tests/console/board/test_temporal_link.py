"""The board's link to an order's workflow goes to the Temporal Web UI named in settings."""

from __future__ import annotations

from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.support.api_harness import api_stack, order_body
from tests.support.console_harness import sign_in


async def test_board_links_to_the_configured_temporal_web_ui(
        dev_env: WorkflowEnvironment, sqlite_url: str, task_queue: str, tmp_path: Path) -> None:
    async with api_stack(dev_env.client, sqlite_url, task_queue, tmp_path,
                         temporal_ui_base_url="https://temporal.ops.example/",
                         temporal_namespace="default") as api:
        body = order_body("SO-LINK-1")
        assert (await api.create(body)).status_code == 201
        await sign_in(api.http, api.keys["operator"])
        columns = (await api.http.get("/console/board/columns")).text
    assert ('href="https://temporal.ops.example/namespaces/default/workflows/order-SO-LINK-1"'
            in columns)
