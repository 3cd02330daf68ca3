"""The order page's live side and the list behind the board's closed/cancelled counts (issue 18
§4, §5), over HTTP against a real worker."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from db.engine import make_engine
from db.orders import board
from db.orders import queries as order_queries
from db.orders.models import Order
from tests.support.api_harness import Api, StackFactory, order_body
from tests.support.console_harness import sign_in
from tests.support.polling import eventually

pytestmark = pytest.mark.one_engine


def mark_of(html: str) -> str:
    return re.search(r'id="order-live"[^>]*data-mark="([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]


async def test_the_page_learns_that_its_order_changed(api: Api) -> None:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    await sign_in(api.http, api.keys["operator"])

    async def projected_and_current() -> str | None:
        page = await api.http.get(f"/console/orders/{order_id}")
        if 'data-testid="next-deadline"' not in page.text:
            return None
        live = await api.http.get(f"/console/orders/{order_id}/live")
        assert live.status_code == 200
        # The page reads its mark before the order: a projection landing between the two
        # reads makes the poll differ once (the page reloads), then they agree.
        return page.text if live.json() == {"mark": mark_of(page.text)} else None
    page = await eventually(projected_and_current)
    assert 'data-testid="setting-up"' not in page
    mark = mark_of(page)
    assert (await api.event(order_id, "confirmed", {})).status_code == 200

    async def moved() -> str | None:
        now = (await api.http.get(f"/console/orders/{order_id}/live")).json()["mark"]
        return now if now != mark else None
    await eventually(moved)
    assert (await api.http.get("/console/orders/SO-NOPE/live")).status_code == 404
    api.http.cookies.clear()  # signed out: the poll goes to the sign-in page
    gone = await api.http.get(f"/console/orders/{order_id}/live")
    assert gone.status_code == 401  # a poller: the page reloads, to the sign-in page


async def test_before_its_workflow_projects_the_order_is_being_set_up(
        make_stack: StackFactory, sqlite_url: str) -> None:
    async with make_stack(sqlite_url, worker=False) as api:  # nothing projects the order
        body = order_body()
        assert (await api.create(body)).status_code == 201
        await sign_in(api.http, api.keys["operator"], lang="zh-CN")
        page = (await api.http.get(f"/console/orders/{body['order_id']}")).text
    assert 'data-testid="setting-up"' in page and "正在建立" in page
    assert "暂无未到期的时限" not in page
    assert 'data-setting-up="1"' in page


async def test_closed_and_cancelled_orders_are_counts_linking_to_a_list(api: Api) -> None:
    kept, gone = order_body(), order_body()
    for body in (kept, gone):
        assert (await api.create(body)).status_code == 201
    assert (await api.event(gone["order_id"], "cancelled",
                            {"reason": "customer withdrew"})).status_code == 200
    await sign_in(api.http, api.keys["operator"])

    async def counted() -> str | None:
        columns = (await api.http.get("/console/board/columns")).text
        return columns if 'data-testid="done-cancelled">Cancelled: 1<' in columns else None
    columns = await eventually(counted)
    assert f'data-order="{gone["order_id"]}"' not in columns  # not a card any more
    assert f'data-order="{kept["order_id"]}"' in columns
    assert 'data-stage="cancelled"' not in columns and 'data-stage="closed"' not in columns
    assert 'href="/console/orders?stage=cancelled"' in columns
    listed = await api.http.get("/console/orders?stage=cancelled")
    assert listed.status_code == 200 and f'data-order="{gone["order_id"]}"' in listed.text
    assert f'data-order="{kept["order_id"]}"' not in listed.text
    assert (await api.http.get("/console/orders?stage=closed")).status_code == 200
    assert (await api.http.get("/console/orders?stage=received")).status_code == 404
    assert (await api.http.get("/console/orders?stage=closed&cursor=nope")).status_code == 400


async def test_a_projection_landing_while_the_page_is_read_shows_as_a_change(
        make_stack: StackFactory, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page reads its order and its change mark one after the other, each seeing the newest
    commit. A projection committed in between must leave the page's mark older than the live
    one, so the poller reloads: a mark newer than the content would leave a page still being
    set up waiting for a next change that may never come (seen once in CI)."""
    async with make_stack(sqlite_url, worker=False) as api:  # the test plays the projection
        body = order_body()
        order_id = body["order_id"]
        assert (await api.create(body)).status_code == 201
        await sign_in(api.http, api.keys["operator"])
        engine = make_engine(sqlite_url)
        calls: list[str] = []

        def then_projected(read: Callable[..., Any], name: str) -> Callable[..., Any]:
            def wrapped(*args: Any) -> Any:
                result = read(*args)
                calls.append(name)
                if len(calls) == 1:  # after the page's first read, before its second
                    with engine.begin() as connection:
                        connection.execute(update(Order).where(Order.order_id == order_id)
                                           .values(projection_seq=1, updated_at=datetime.now(UTC)))
                return result
            return wrapped

        monkeypatch.setattr(order_queries, "get_order",
                            then_projected(order_queries.get_order, "order"))
        monkeypatch.setattr(board, "change_mark", then_projected(board.change_mark, "mark"))
        page = (await api.http.get(f"/console/orders/{order_id}")).text
        monkeypatch.undo()
        live = (await api.http.get(f"/console/orders/{order_id}/live")).json()["mark"]
        engine.dispose()
    assert set(calls) == {"order", "mark"}
    assert mark_of(page) != live
