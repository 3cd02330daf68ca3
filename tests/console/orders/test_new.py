"""Creating an order from the console: the API's own rules, errors beside their fields."""

from __future__ import annotations

import re

import pytest

from tests.support.api_harness import Api
from tests.support.console_harness import csrf_of, sign_in

# The form's errors are the API's validation: SQLite only.
pytestmark = pytest.mark.one_engine


def beside(html: str, field: str) -> str:
    """The error shown under `field`, or '' if none."""
    found = re.search(rf'data-testid="err-{field}">([^<]*)<', html)
    return found.group(1) if found else ""


def form(csrf: str, **over: str) -> dict[str, str]:
    data = {"csrf": csrf, "order_id": "SO-CON-1", "customer_id": "C-7",
            "customer_name": "Sanghong Apparel", "customer_tier": "key_account",
            "customer_phone": "+86 21 5555 0100", "customer_email": "ops@example.com",
            "customer_language": "en", "customer_key_account_manager": "Wang Fang",
            "line_sku_0": "SKU-1", "line_qty_0": "10", "line_sku_1": "SKU-2", "line_qty_1": "3",
            "dest_address": "88 Century Ave", "dest_city": "Shanghai", "dest_contact": "Li Lei",
            "dest_phone": "+86 138 0000 0000", "ship_by": "2030-12-01T10:00",
            "delivery_by": "2030-12-03T18:00", "sla_policy": ""}
    return {**data, **over}


async def test_an_operator_creates_an_order_read_in_their_zone(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"])
    page = await http.get("/console/orders/new")
    assert page.status_code == 200 and 'href="/console/orders/new"' in page.text
    assert "New order" in page.text
    created = await http.post("/console/orders/new", data=form(csrf_of(page.text)))
    assert created.status_code == 303
    # Issue 18 §5: the order page then says it was created.
    assert created.headers["location"] == "/console/orders/SO-CON-1?done=created"
    done = await http.get(created.headers["location"])
    assert 'data-testid="done"' in done.text and "Order created." in done.text
    order = (await api.get("/v1/orders/SO-CON-1")).json()
    # Asia/Shanghai is the console's zone: 10:00 there is 02:00 UTC.
    assert order["promised_ship_by"].startswith("2030-12-01T02:00")
    assert [(line["sku"], line["ordered"]) for line in order["lines"]] == [
        ("SKU-1", 10), ("SKU-2", 3)]
    assert order["customer"]["tier"] == "key_account"
    # The same form again is the same order; another body under its id is refused beside it.
    again = await http.post("/console/orders/new", data=form(csrf_of(page.text)))
    assert again.status_code == 303
    clash = await http.post("/console/orders/new",
                            data=form(csrf_of(page.text), line_qty_0="11"))
    assert clash.status_code == 409
    assert beside(clash.text, "order_id").startswith("An order with this id already exists")


async def test_errors_are_shown_beside_their_fields_in_the_viewers_language(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["supervisor"], lang="zh-CN")
    csrf = csrf_of((await http.get("/console/orders/new")).text)
    missing = await http.post("/console/orders/new", data=form(
        csrf, order_id="", customer_name="", dest_address="", line_qty_1="0",
        customer_email="not-an-email"))
    assert missing.status_code == 422
    html = missing.text
    assert beside(html, "order_id") == "必填。" and beside(html, "customer_name") == "必填。"
    assert beside(html, "dest_address") == "必填。"
    assert beside(html, "line_qty_1") == "不能小于 1。"
    assert beside(html, "customer_email") == "格式不正确。"
    assert beside(html, "customer_id") == "" and beside(html, "line_qty_0") == ""
    # What was typed is kept.
    assert 'name="customer_id" type="text" value="C-7"' in html
    assert 'value="not-an-email"' in html

    backwards = await http.post("/console/orders/new", data=form(
        csrf, ship_by="2030-12-03T18:00", delivery_by="2030-12-01T10:00"))
    assert backwards.status_code == 422
    assert beside(backwards.text, "delivery_by") == "承诺送达时间不能早于承诺发货时间。"

    await sign_in(http, api.keys["operator"], lang="en")
    csrf = csrf_of((await http.get("/console/orders/new")).text)
    backwards = await http.post("/console/orders/new", data=form(
        csrf, ship_by="2030-12-03T18:00", delivery_by="2030-12-01T10:00"))
    assert backwards.status_code == 422
    assert beside(backwards.text, "delivery_by") == "Delivery cannot be promised before shipping."
    no_lines = await http.post("/console/orders/new", data=form(
        csrf, line_sku_0="", line_qty_0="", line_sku_1="", line_qty_1="", ship_by=""))
    assert beside(no_lines.text, "lines") == "Give at least one line."
    assert beside(no_lines.text, "ship_by") == "Required."
    assert (await api.get("/v1/orders/SO-CON-1")).status_code == 404


async def test_an_auditor_may_not_create_orders(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["auditor"])
    board = await http.get("/console/board")
    assert 'href="/console/orders/new"' not in board.text
    assert (await http.get("/console/orders/new")).status_code == 403
    refused = await http.post("/console/orders/new", data=form(csrf_of(board.text)))
    assert refused.status_code == 403
    assert (await api.get("/v1/orders/SO-CON-1")).status_code == 404


async def test_the_error_summary_links_each_error_to_its_field(api: Api) -> None:
    http = api.http
    await sign_in(http, api.keys["operator"])
    csrf = csrf_of((await http.get("/console/orders/new")).text)
    missing = await http.post("/console/orders/new", data=form(
        csrf, customer_name="", line_qty_1="0"))
    assert missing.status_code == 422
    summary = missing.text.split('data-testid="new-errors"', 1)[1].split("</div>", 1)[0]
    assert 'data-focus' in missing.text.split('data-testid="new-errors"', 1)[0][-80:]
    assert '<a href="#f-customer_name">Name: Required.</a>' in summary
    assert '<a href="#f-line_qty_1">Quantity 2: Must be at least 1.</a>' in summary


async def test_a_promise_already_past_needs_the_box_ticked(api: Api) -> None:
    """Issue 18, Why "Smaller": such an order was accepted without a word."""
    http = api.http
    await sign_in(http, api.keys["operator"], lang="zh-CN")
    csrf = csrf_of((await http.get("/console/orders/new")).text)
    past = form(csrf, order_id="SO-CON-PAST", ship_by="2020-01-01T10:00")
    warned = await http.post("/console/orders/new", data=past)
    assert warned.status_code == 200 and 'data-testid="past-warning"' in warned.text
    assert "有承诺时间已经过去" in warned.text and 'href="#f-ship_by"' in warned.text
    assert 'value="2020-01-01T10:00"' in warned.text  # what was typed is kept
    assert (await api.get("/v1/orders/SO-CON-PAST")).status_code == 404
    created = await http.post("/console/orders/new", data={**past, "past_ok": "1"})
    assert created.status_code == 303, created.text
    assert (await api.get("/v1/orders/SO-CON-PAST")).status_code == 200
