"""The console's claims pages over HTTP: the queue with its filters, and one claim worked step
by step through its forms, with refusals kept on the page and every action recorded as the
viewer, from the console."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest

from tests.support.api_harness import Api
from tests.support.claims_harness import claim_of, claim_on_cancelled_order
from tests.support.console_harness import csrf_of, sign_in

# The claims' queries run on both engines in tests/db/escalations/: the pages on SQLite.
pytestmark = pytest.mark.one_engine

PDF = b"%PDF-1.4\n% accident report\n%%EOF\n"


def action_id_of(html: str) -> str:
    found = re.search(r'name="action_id" value="([^"]+)"', html)
    assert found
    return found.group(1)


async def act(http: httpx.AsyncClient, claim_id: str, action: str,
              **fields: str) -> httpx.Response:
    page = await http.get(f"/console/claims/{claim_id}")
    return await http.post(f"/console/claims/{claim_id}/events/{action}", data={
        "csrf": csrf_of(page.text), "action_id": action_id_of(page.text), **fields})


async def test_a_claim_worked_from_contact_to_payout_in_the_console(api: Api) -> None:
    order_id, claim_id = await claim_on_cancelled_order(api, weight_kg=20)
    http = api.http
    await sign_in(http, api.keys["operator"])

    queue = await http.get("/console/claims?state=open")
    assert queue.status_code == 200 and f'href="/console/claims/{claim_id}"' in queue.text
    assert "Contact the customer" in queue.text
    order = await http.get(f"/console/orders/{order_id}")
    assert f'href="/console/claims/{claim_id}"' in order.text

    page = await http.get(f"/console/claims/{claim_id}")
    assert page.status_code == 200 and 'data-testid="customer_contacted-form"' in page.text
    assert 'data-testid="liability_decided-form"' not in page.text  # not its turn yet

    done = await act(http, claim_id, "customer_contacted", channel="phone", note="apologised")
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/claims/{claim_id}?done=customer_contacted#done"
    page = await http.get(done.headers["location"])
    assert 'data-testid="done"' in page.text and "The customer contact is recorded." in page.text
    assert "Next: Collect the evidence" in page.text
    assert "Still missing: Accident report, Delivery note." in page.text

    # A refused upload stays on the claim's page with its error.
    bad = await http.post(f"/console/claims/{claim_id}/documents",
                          data={"csrf": csrf_of(page.text), "kind": "accident_report"},
                          files={"file": ("r.txt", b"hello", "text/plain")})
    assert bad.status_code == 415 and 'data-testid="form-error"' in bad.text
    assert "Not a PDF, JPEG or PNG file." in bad.text and f"Claim {claim_id}" in bad.text
    for kind, body in (("accident_report", PDF), ("delivery_note", PDF + b"note")):
        up = await http.post(f"/console/claims/{claim_id}/documents",
                             data={"csrf": csrf_of(page.text), "kind": kind},
                             files={"file": (f"{kind}.pdf", body, "application/pdf")})
        assert up.status_code == 303, up.text
    page = await http.get(f"/console/claims/{claim_id}?done=document")
    sha = hashlib.sha256(PDF).hexdigest()
    assert sha in page.text and "The document is on file." in page.text
    doc = await http.get(f"/console/claims/{claim_id}/documents/{sha}")
    assert doc.status_code == 200 and doc.content == PDF
    assert 'data-testid="liability_decided-form"' in page.text

    assert (await act(http, claim_id, "liability_decided", liability="carrier")).status_code \
        == 303
    page = await http.get(f"/console/claims/{claim_id}")
    assert "The standard allows up to 400.00 CNY (by weight)." in page.text
    assert 'data-testid="override-reason"' not in page.text  # operators get no override

    # Above the standard: refused on the page, the typed amount kept.
    over = await act(http, claim_id, "compensation_set", amount="500", currency="CNY")
    assert over.status_code == 422 and 'role="alert"' in over.text
    assert "above the standard (400.00 CNY)" in over.text and 'value="500"' in over.text
    # Reloading the refused form's address (or switching language there) is the claim's page.
    back = await http.get(f"/console/claims/{claim_id}/events/compensation_set")
    assert back.status_code == 303 and back.headers["location"] == f"/console/claims/{claim_id}"
    bad_amount = await act(http, claim_id, "compensation_set", amount="lots", currency="CNY")
    assert bad_amount.status_code == 422 and "Check these fields: Compensation" in bad_amount.text

    # A supervisor approves more, with a reason.
    await sign_in(http, api.keys["supervisor"], lang="zh-CN")
    page = await http.get(f"/console/claims/{claim_id}")
    assert 'data-testid="override-reason"' in page.text and "索赔" not in page.text
    done = await act(http, claim_id, "compensation_set", amount="450.50", currency="CNY",
                     override_reason="fragile goods, agreed with the account manager")
    assert done.status_code == 303, done.text
    page = await http.get(done.headers["location"])
    assert "已确定赔偿金额。" in page.text and "下一步：发放赔款" in page.text
    assert (await act(http, claim_id, "payout_issued", voucher="PV-1")).status_code == 303

    view = await claim_of(api, claim_id, state="closed")
    assert view["amount_minor"] == 45050 and view["voucher"] == "PV-1"
    assert view["override_by"] == "test-supervisor"
    timeline = view["timeline"]
    contact = next(e for e in timeline if e["type"] == "customer_contacted")
    assert contact["actor"] == "test-operator" and contact["source"] == "console"
    page = await http.get(f"/console/claims/{claim_id}")
    assert "已赔付" in page.text and 'data-testid="payout_issued-form"' not in page.text


async def test_an_auditor_reads_a_claim_but_gets_no_forms(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api)
    http = api.http
    await sign_in(http, api.keys["auditor"])
    page = await http.get(f"/console/claims/{claim_id}")
    assert page.status_code == 200 and "-form" not in page.text.replace("upload-form", "x")
    refused = await http.post(f"/console/claims/{claim_id}/events/note",
                              data={"csrf": csrf_of(page.text), "text": "hi"})
    assert refused.status_code == 403
    assert (await http.get("/console/claims/nope")).status_code == 404
