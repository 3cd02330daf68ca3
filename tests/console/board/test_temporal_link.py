"""The board's link to an order's workflow goes to the Temporal Web UI named in settings."""

from __future__ import annotations

from tests.support.api_harness import StackFactory, order_body
from tests.support.console_harness import sign_in


async def test_board_links_to_the_configured_temporal_web_ui(
        make_stack: StackFactory, sqlite_url: str) -> None:
    async with make_stack(sqlite_url,
                          temporal_ui_base_url="https://temporal.ops.example/",
                          temporal_namespace="default") as api:
        body = order_body("SO-LINK-1")
        assert (await api.create(body)).status_code == 201
        await sign_in(api.http, api.keys["operator"])
        columns = (await api.http.get("/console/board/columns")).text
    assert ('href="https://temporal.ops.example/namespaces/default/workflows/order-SO-LINK-1"'
            in columns)
