"""The console's order page over HTTP: what it shows after delivery, and its action forms."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.support.api_harness import Api, order_body
from tests.support.builders import FULL_PICK, POD, SHIP
from tests.support.console_harness import csrf_of, sign_in
from tests.support.polling import eventually

# The order's reads run on both engines in tests/api/orders/: the page on SQLite.
pytestmark = pytest.mark.one_engine

PDF = b"%PDF-1.4\n% signed by Li Lei\n%%EOF\n"


def event_id_of(html: str, form: str) -> str:
    found = re.search(rf'data-testid="{form}".*?name="action_id" value="([^"]+)"', html, re.S)
    assert found, form
    return found.group(1)


async def stage_of(api: Api, order_id: str) -> str:
    return (await api.get(f"/v1/orders/{order_id}")).json()["stage"]


async def test_a_delivered_order_shows_lines_pod_receipt_and_the_follow_up_call(api: Api) -> None:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivered", POD)):
        assert (await api.event(order_id, type_, data)).status_code == 200
    http = api.http
    await sign_in(http, api.keys["operator"])
    page = await http.get(f"/console/orders/{order_id}")
    assert page.status_code == 200
    assert 'data-sku="SKU-1"' in page.text and "Li Lei" in page.text and "sig-1" in page.text
    assert "Intact" in page.text and "No receipt has come back yet." in page.text
    assert 'data-testid="cancel-form"' not in page.text  # shipped: too late to cancel

    # The receipt, uploaded through the console, is listed with its hash and viewable.
    uploaded = await http.post(f"/console/orders/{order_id}/receipt",
                               data={"csrf": csrf_of(page.text)},
                               files={"file": ("receipt.pdf", PDF, "application/pdf")})
    assert uploaded.status_code == 303, uploaded.text
    assert uploaded.headers["location"].endswith("?done=receipt")
    sha = hashlib.sha256(PDF).hexdigest()
    page = await http.get(uploaded.headers["location"])
    assert sha in page.text and 'data-testid="done"' in page.text
    link = re.search(r'href="(/console/orders/[^"]+/receipt\?version=1)"', page.text).group(1)
    got = await http.get(link)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["x-content-sha256"] == sha
    # A file that is not a PDF/JPEG/PNG is refused on the order's own page, at the upload form
    # (issue 18 §5: the refusal used to be a page without the order).
    bad = await http.post(f"/console/orders/{order_id}/receipt", data={"csrf": csrf_of(page.text)},
                          files={"file": ("r.txt", b"hello", "text/plain")})
    assert bad.status_code == 415
    upload_form = bad.text.split('data-testid="receipt-form"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="action-error"' in upload_form and "Not a PDF, JPEG or PNG" in upload_form
    assert 'data-testid="lines"' in bad.text and sha in bad.text

    # An answered call without scores is refused on the page; with scores it is recorded once.
    call = {"csrf": csrf_of(page.text), "action_id": event_id_of(page.text, "call-form"),
            "outcome": "answered", "goods_ok": "yes"}
    missing = await http.post(f"/console/orders/{order_id}/follow-up-call", data=call)
    assert missing.status_code == 422
    call_form = missing.text.split('data-testid="call-form"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="action-error"' in call_form
    assert '<option value="yes" selected>' in call_form  # what was chosen is kept
    call.update(score_timeliness="5", score_completeness="4", score_courtesy="5",
                suggestions="call before delivery")
    for _ in range(2):
        recorded = await http.post(f"/console/orders/{order_id}/follow-up-call", data=call)
        assert recorded.status_code == 303, recorded.text

    async def followed_up() -> dict:
        view = (await api.get(f"/v1/orders/{order_id}")).json()
        return view if view["follow_up"]["status"] == "answered" else None
    view = await eventually(followed_up)
    assert view["follow_up"]["channel"] == "phone" and len(view["follow_up"]["calls"]) == 1
    page = await http.get(f"/console/orders/{order_id}")
    assert "Answered" in page.text and "Timeliness 5/5" in page.text
    assert "call before delivery" in page.text and "test-operator" in page.text

    # The same call again: the follow-up is over, and the page says so in the viewer's words.
    await sign_in(http, api.keys["operator"], lang="zh-CN")
    page = await http.get(f"/console/orders/{order_id}")
    assert 'data-testid="call-form"' not in page.text
    late = await http.post(f"/console/orders/{order_id}/follow-up-call", data={
        "csrf": csrf_of(page.text), "action_id": "console-00000000000000aa",
        "outcome": "refused"})
    assert late.status_code == 409 and "当前阶段不可执行" in late.text


async def test_confirm_and_cancel_with_forms_and_tokens(api: Api) -> None:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    http = api.http
    await sign_in(http, api.keys["supervisor"])
    page = await http.get(f"/console/orders/{order_id}")
    assert 'data-testid="confirm-form"' in page.text and 'data-testid="cancel-form"' in page.text
    forged = await http.post(f"/console/orders/{order_id}/confirm", data={"csrf": "0" * 32})
    assert forged.status_code == 403 and 'data-state="csrf"' in forged.text
    confirm = {"csrf": csrf_of(page.text), "action_id": event_id_of(page.text, "confirm-form")}
    for _ in range(2):  # a resubmitted form is the same confirmation
        done = await http.post(f"/console/orders/{order_id}/confirm", data=confirm)
        assert done.status_code == 303
        assert done.headers["location"] == f"/console/orders/{order_id}?done=confirm"
    assert await stage_of(api, order_id) == "confirmed"
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    confirmed = [e for e in timeline if e["type"] == "confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["actor"] == "test-supervisor"
    assert confirmed[0]["source"] == "console"

    page = await http.get(f"/console/orders/{order_id}")
    assert 'data-testid="confirm-form"' not in page.text
    cancel = {"csrf": csrf_of(page.text), "action_id": event_id_of(page.text, "cancel-form")}
    empty = await http.post(f"/console/orders/{order_id}/cancel", data={**cancel, "reason": " "})
    assert empty.status_code == 422 and "Give a reason for cancelling" in empty.text
    cancel_form = empty.text.split('data-testid="cancel-form"', 1)[1].split("</form>", 1)[0]
    assert 'data-testid="action-error"' in cancel_form
    # The customer's tracking page, for staff to give on the phone.
    assert re.search(r'<a href="http[^"]*/t/[^"]+"[^>]*data-testid="tracking-link"', page.text)
    # Reloading the refused page (it sits at the form's address) goes back to the order.
    reload = await http.get(f"/console/orders/{order_id}/cancel")
    assert reload.status_code == 303 and reload.headers["location"] == f"/console/orders/{order_id}"
    done = await http.post(f"/console/orders/{order_id}/cancel",
                           data={**cancel, "reason": "customer changed supplier"})
    assert done.status_code == 303
    assert await stage_of(api, order_id) == "cancelled"
    page = await http.get(f"/console/orders/{order_id}")
    assert "Cancelled: customer changed supplier" in page.text
    assert 'data-testid="cancel-form"' not in page.text
    # Confirming a cancelled order: the workflow's refusal, as a page.
    again = await http.post(f"/console/orders/{order_id}/confirm", data={
        "csrf": csrf_of(page.text), "action_id": "console-00000000000000bb"})
    assert again.status_code == 409 and "Not possible at this stage" in again.text
    assert 'data-testid="timeline"' in again.text  # on the order's page, not a bare message


async def test_an_auditor_sees_no_cancel_form_and_cannot_post_one(api: Api) -> None:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    http = api.http
    await sign_in(http, api.keys["auditor"])
    page = await http.get(f"/console/orders/{order_id}")
    assert page.status_code == 200 and 'data-sku="SKU-2"' in page.text
    for form in ("cancel-form", "confirm-form", "call-form", "receipt-form"):
        assert f'data-testid="{form}"' not in page.text
    refused = await http.post(f"/console/orders/{order_id}/cancel", data={
        "csrf": csrf_of(page.text), "reason": "not mine to decide"})
    assert refused.status_code == 403 and 'data-state="forbidden"' in refused.text
    upload = await http.post(f"/console/orders/{order_id}/receipt",
                             data={"csrf": csrf_of(page.text)},
                             files={"file": ("receipt.pdf", PDF, "application/pdf")})
    assert upload.status_code == 403
    assert await stage_of(api, order_id) == "received"


async def test_a_shortage_awaiting_the_customers_decision_is_shown(api: Api) -> None:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    short = await api.event(order_id, "stock_shortage", {"lines": [{"sku": "SKU-1", "qty": 6}]})
    assert short.status_code == 200, short.text

    async def awaiting() -> dict | None:
        view = (await api.get(f"/v1/orders/{order_id}")).json()
        return view if view["awaiting_decision"] else None
    await eventually(awaiting)
    await sign_in(api.http, api.keys["operator"])
    page = await api.http.get(f"/console/orders/{order_id}")
    assert "Awaiting the customer&#39;s decision on a stock shortage" in page.text
    assert "SKU-1: 6 available" in page.text


async def test_exceptions_and_claims_are_named_in_words(api: Api) -> None:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivery_exception", {"reason": "weather", "text": "snow on the road"}),
                        ("delivered", {**POD, "condition": "damaged"})):
        assert (await api.event(order_id, type_, data)).status_code == 200

    async def claimed() -> str | None:
        page = await api.http.get(f"/console/orders/{order_id}")
        return page.text if f"Claim {order_id}-CL1" in page.text else None
    await sign_in(api.http, api.keys["operator"])
    text = await eventually(claimed)
    assert f"Claim {order_id}-CL1 (Damaged goods)" in text
    assert "Weather: snow on the road (" in text


async def test_a_delivery_exception_is_recorded_with_the_generic_event_form(api: Api) -> None:
    """An event type that declares a console form is recorded through the one generic route,
    its inputs from its data class, checked by the API's own body."""
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP)):
        assert (await api.event(order_id, type_, data)).status_code == 200
    http = api.http
    await sign_in(http, api.keys["operator"])
    page = await http.get(f"/console/orders/{order_id}")
    form = "record-delivery_exception-form"
    assert f'data-testid="{form}"' in page.text and "What happened" in page.text
    assert 'value="damaged_in_transit">Damaged in transit<' in page.text  # worded choices
    url = f"/console/orders/{order_id}/events/delivery_exception"
    sent = {"csrf": csrf_of(page.text), "action_id": event_id_of(page.text, form),
            "reason": "weather", "text": " "}
    empty = await http.post(url, data=sent)  # the text is required
    assert empty.status_code == 422 and 'data-testid="action-error"' in empty.text
    sent.update(text="road closed by snow", promised_delivery_by="2026-12-10T18:00")
    for _ in range(2):  # a resubmitted form records once
        done = await http.post(url, data=sent)
        assert done.status_code == 303, done.text
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    recorded = [e for e in timeline if e["type"] == "delivery_exception"]
    assert len(recorded) == 1 and recorded[0]["source"] == "console"
    assert recorded[0]["actor"] == "test-operator"
    assert recorded[0]["data"]["reason"] == "weather"
    assert recorded[0]["data"]["promised_delivery_by"].startswith("2026-12-10")

    async def shown() -> str | None:
        page = await http.get(f"/console/orders/{order_id}")
        return page.text if "Weather: road closed by snow" in page.text else None
    await eventually(shown)
    unknown = await http.post(f"/console/orders/{order_id}/events/picked", data=sent)
    assert unknown.status_code == 404  # no console form declared: no generic route

    # A carrier phones in where the goods are: a scan-gap escalation is worked in the console.
    page = await http.get(f"/console/orders/{order_id}")
    scan_form = "record-tracking_scan-form"
    assert f'data-testid="{scan_form}"' in page.text and "Where the goods are" in page.text
    scanned = await http.post(f"/console/orders/{order_id}/events/tracking_scan", data={
        "csrf": csrf_of(page.text), "action_id": event_id_of(page.text, scan_form),
        "location": "Hangzhou hub", "status": "held for weather", "eta": "2026-12-09T12:00"})
    assert scanned.status_code == 303, scanned.text
    timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
    scans = [e for e in timeline if e["type"] == "tracking_scan"]
    assert len(scans) == 1 and scans[0]["source"] == "console"
    assert scans[0]["data"]["location"] == "Hangzhou hub"

    await sign_in(http, api.keys["auditor"])
    page = await http.get(f"/console/orders/{order_id}")
    assert f'data-testid="{form}"' not in page.text
    refused = await http.post(url, data={**sent, "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
