"""The link to an order's workflow in the Temporal Web UI (issue 18 §4): never on the board, on
the order page only, and only for the roles the permission table gives `temporal_ui.view`."""

from __future__ import annotations

from api.permissions import Role, roles_for
from tests.support.api_harness import StackFactory, order_body
from tests.support.console_harness import sign_in

LINK = 'href="https://temporal.ops.example/namespaces/default/workflows/order-SO-LINK-1"'


def test_the_roles_that_see_the_temporal_link() -> None:
    assert roles_for("temporal_ui.view") == {Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN}


async def test_the_order_page_links_to_the_configured_temporal_web_ui_for_some_roles(
        make_stack: StackFactory, sqlite_url: str) -> None:
    async with make_stack(sqlite_url,
                          temporal_ui_base_url="https://temporal.ops.example/",
                          temporal_namespace="default") as api:
        body = order_body("SO-LINK-1")
        assert (await api.create(body)).status_code == 201
        for role, shown in (("operator", False), ("supervisor", True), ("auditor", True)):
            await sign_in(api.http, api.keys[role])
            board = (await api.http.get("/console/board")).text
            columns = (await api.http.get("/console/board/columns")).text
            order = (await api.http.get("/console/orders/SO-LINK-1")).text
            assert 'data-order="SO-LINK-1"' in columns
            assert "temporal.ops.example" not in board + columns, role
            assert (LINK in order) is shown, role
