"""Claims over HTTP: API -> Temporal dev server -> worker -> SQLite/PostgreSQL, and the archive.

Claim deadlines are hours long here: these tests watch steps, rules and reads, not timers
(tests/workflows/claim/test_workflow.py skips time for those).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api_harness import Api, created, error_code
from tests.support.builders import FULL_PICK, POD, SHIP, minimal_pdf, minimal_png
from tests.support.claims_harness import claim_of, claim_on_cancelled_order, drive, open_claim, post
from tests.support.polling import eventually

IN_TRANSIT = (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP))


async def upload(api: Api, claim_id: str, kind: str | None, data: bytes,
                 filename: str = "doc.pdf", role: str = "operator") -> httpx.Response:
    form = {"kind": kind} if kind is not None else {}
    return await api.http.post(f"/v1/claims/{claim_id}/documents", headers=api.auth(role),
                               data=form, files={"file": (filename, data, "application/pdf")})


async def to_liability(api: Api, claim_id: str, liability: str = "carrier") -> None:
    assert (await post(api, claim_id, "customer_contacted", {"channel": "phone"})
            ).status_code == 200
    assert (await upload(api, claim_id, "accident_report", minimal_pdf("report"))
            ).status_code == 201
    assert (await upload(api, claim_id, "delivery_note", minimal_png())).status_code == 201
    assert (await post(api, claim_id, "liability_decided", {"liability": liability})
            ).status_code == 200


async def test_damaged_delivery_opens_a_claim_that_runs_to_payout(api: Api) -> None:
    order_id = await created(api, weight_kg=20)  # the compensation basis comes from the order
    assert (await api.get(f"/v1/orders/{order_id}")).json()["weight_kg"] == 20
    await drive(api, order_id, *IN_TRANSIT, ("delivered", {**POD, "condition": "damaged"}))
    claim_id = f"{order_id}-CL1"
    claim = await claim_of(api, claim_id)
    assert (claim["origin"], claim["cause"], claim["step"], claim["awaiting"]) == (
        "delivery", "damaged", "opened", "customer_contacted")
    assert [s["step"] for s in claim["steps"]][:2] == ["opened", "customer_contacted"]
    assert claim["steps"][1]["due_at"] == claim["due_at"]

    await to_liability(api, claim_id)
    comp = await post(api, claim_id, "compensation_set",
                      {"amount_minor": 30000, "currency": "CNY"})
    assert comp.status_code == 200 and comp.json()["step"] == "compensation_set"
    paid = await post(api, claim_id, "payout_issued", {"voucher": "PV-2026-0001"})
    assert paid.json() == {"accepted": True, "duplicate": False, "claim_id": claim_id,
                           "state": "closed", "step": "closed"}

    claim = await claim_of(api, claim_id, state="closed")
    assert (claim["outcome"], claim["amount_minor"], claim["cap_minor"], claim["voucher"]) == (
        "paid", 30000, 40000, "PV-2026-0001")
    assert all(s["done_at"] for s in claim["steps"])
    assert {d["kind"] for d in claim["documents"]} == {"accident_report", "delivery_note"}
    assert [e["type"] for e in claim["timeline"]] == [
        "opened", "customer_contacted", "document_added", "document_added",
        "evidence_collected", "liability_decided", "compensation_set", "payout_issued", "closed"]
    assert claim["timeline"][1]["actor"] == "test-operator"

    async def order_told() -> bool:
        timeline = (await api.get(f"/v1/orders/{order_id}/timeline")).json()["items"]
        return any(e["type"] == "claim_closed" for e in timeline)

    await eventually(order_told)


async def test_manual_claims_on_running_ended_and_unready_orders(api: Api) -> None:
    running = await created(api)
    await drive(api, running, *IN_TRANSIT)
    resp = await open_claim(api, running, role="integration", cause="lost")
    assert resp.status_code == 201, resp.text
    assert resp.json()["claim_id"] == f"{running}-CL1"
    assert resp.headers["location"] == f"/v1/claims/{running}-CL1"
    claim = await claim_of(api, f"{running}-CL1")
    assert (claim["origin"], claim["cause"], claim["opened_by"]) == (
        "manual", "lost", "test-integration")

    unready = await created(api)
    early = await open_claim(api, unready)
    assert early.status_code == 409 and error_code(early) == "invalid_transition"

    ended, first = await claim_on_cancelled_order(api)
    second = await open_claim(api, ended)
    assert (first, second.json()["claim_id"]) == (f"{ended}-CL1", f"{ended}-CL2")

    assert (await open_claim(api, running, role="auditor")).status_code == 403
    missing = await open_claim(api, "SO-nope")
    assert missing.status_code == 404 and error_code(missing) == "order_not_found"
    bad = await api.http.post(f"/v1/orders/{running}/claims", headers=api.auth("operator"),
                              json={"cause": "stolen", "description": "x"})
    assert bad.status_code == 422 and error_code(bad) == "validation_error"


async def test_a_retried_manual_claim_with_its_request_id_opens_one_claim(api: Api) -> None:
    order_id = await created(api)
    await drive(api, order_id, *IN_TRANSIT, ("delivered", POD))
    body = {"cause": "short", "description": "two cartons missing", "request_id": "desk-7"}
    first, retry = [await api.http.post(f"/v1/orders/{order_id}/claims",
                                        headers=api.auth("operator"), json=body)
                    for _ in range(2)]
    assert first.status_code == retry.status_code == 201
    assert first.json()["claim_id"] == retry.json()["claim_id"] == f"{order_id}-CL1"
    order = (await api.get(f"/v1/orders/{order_id}")).json()
    assert [c["claim_id"] for c in order["claims"]] == [f"{order_id}-CL1"]


async def test_compensation_above_the_standard_needs_a_supervisors_override(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api, weight_kg=20)
    await to_liability(api, claim_id)
    above = {"amount_minor": 50000, "currency": "CNY"}

    refused = await post(api, claim_id, "compensation_set", above)
    assert refused.status_code == 422 and error_code(refused) == "compensation_above_cap"
    assert refused.json()["error"]["details"]["cap_minor"] == 40000
    overridden = {**above, "override": {"reason": "fragile goods, agreed with the KAM"}}
    by_operator = await post(api, claim_id, "compensation_set", overridden)
    assert by_operator.status_code == 403 and error_code(by_operator) == "override_forbidden"
    no_reason = await post(api, claim_id, "compensation_set", {**above, "override": {}},
                           role="supervisor")
    assert no_reason.status_code == 422 and error_code(no_reason) == "validation_error"
    assert (await post(api, claim_id, "compensation_set", overridden, role="integration")
            ).status_code == 403

    ok = await post(api, claim_id, "compensation_set", overridden, role="supervisor")
    assert ok.status_code == 200, ok.text
    claim = await claim_of(api, claim_id, step="compensation_set")
    assert (claim["amount_minor"], claim["override_by"], claim["override_reason"]) == (
        50000, "test-supervisor", "fragile goods, agreed with the KAM")


@pytest.mark.validation
async def test_an_operator_cannot_raise_the_cap_with_a_basis_of_their_own(api: Api) -> None:
    """Issue 14's reproduction: refused at an amount, an operator resent it with a declared
    value as large and got 200. The basis is the order's (or a supervisor's) now."""
    _, claim_id = await claim_on_cancelled_order(api, declared_value_minor=45000)
    await to_liability(api, claim_id)
    amount = {"amount_minor": 500000000, "currency": "CNY"}
    above = await post(api, claim_id, "compensation_set", amount)
    assert above.status_code == 422 and error_code(above) == "compensation_above_cap"
    assert above.json()["error"]["details"]["cap_minor"] == 45000
    override = await post(api, claim_id, "compensation_set",
                          {**amount, "override": {"reason": "please"}})
    assert override.status_code == 403 and error_code(override) == "override_forbidden"
    for basis in ({"declared_value_minor": 500000000}, {"weight_kg": 250000}):
        bypass = await post(api, claim_id, "compensation_set", {**amount, **basis})
        assert bypass.status_code == 403 and error_code(bypass) == "basis_change_forbidden"
        by_set = await post(api, claim_id, "basis_set", {**basis, "reason": "mine"})
        # basis_set is a supervisor's action in the permission table: refused before the claim.
        assert by_set.status_code == 403 and error_code(by_set) == "forbidden"
        assert by_set.json()["error"]["details"]["action"] == "claim.event.basis_set"
    claim = await claim_of(api, claim_id)
    assert (claim["awaiting"], claim["amount_minor"], claim["basis_changes"]) == (
        "compensation_set", None, [])
    same = await post(api, claim_id, "compensation_set",
                      {"amount_minor": 40000, "currency": "CNY", "declared_value_minor": 45000})
    assert same.status_code == 200, same.text  # the recorded basis, repeated: allowed
    claim = await claim_of(api, claim_id, step="compensation_set")
    assert (claim["cap_minor"], claim["cap_basis"], claim["override_by"]) == (
        45000, "declared_value", None)


async def test_without_a_basis_a_supervisor_records_one_on_the_claim(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api)  # the order gave none
    await to_liability(api, claim_id)
    amount = {"amount_minor": 30000, "currency": "CNY"}
    no_basis = await post(api, claim_id, "compensation_set", amount)
    assert no_basis.status_code == 422 and error_code(no_basis) == "compensation_basis_required"
    decided = await post(api, claim_id, "basis_set",
                         {"weight_kg": 20, "reason": "weighed at the hub"}, role="supervisor")
    assert decided.status_code == 200, decided.text
    assert (await post(api, claim_id, "compensation_set", amount)).status_code == 200
    claim = await claim_of(api, claim_id, step="compensation_set")
    assert (claim["cap_minor"], claim["cap_basis"], claim["weight_kg"]) == (40000, "weight", 20)
    [change] = claim["basis_changes"]
    assert (change["by"], change["role"], change["old"], change["new"], change["reason"]) == (
        "test-supervisor", "supervisor", {"weight_kg": None, "declared_value_minor": None},
        {"weight_kg": 20, "declared_value_minor": None}, "weighed at the hub")
    assert "basis_changed" in [e["type"] for e in claim["timeline"]]


@pytest.mark.validation
async def test_steps_out_of_order_are_409_and_event_ids_are_idempotent(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api)
    payout = await post(api, claim_id, "payout_issued", {"voucher": "PV-1"})
    assert payout.status_code == 409 and error_code(payout) == "invalid_transition"
    assert payout.json()["error"]["details"]["awaiting"] == "customer_contacted"

    first = await post(api, claim_id, "customer_contacted", {"channel": "phone"},
                       event_id="call-1")
    again = await post(api, claim_id, "customer_contacted", {"channel": "phone"},
                       event_id="call-1")
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    reused = await post(api, claim_id, "customer_contacted", {"channel": "email"},
                        event_id="call-1")
    assert reused.status_code == 409 and error_code(reused) == "event_id_reused"

    await upload(api, claim_id, "accident_report", minimal_pdf())
    early = await post(api, claim_id, "liability_decided", {"liability": "carrier"})
    assert early.status_code == 409
    assert early.json()["error"]["details"]["missing_documents"] == ["delivery_note"]
    claim = await claim_of(api, claim_id)
    assert [e["type"] for e in claim["timeline"]] == [
        "opened", "customer_contacted", "document_added"]


async def test_customer_liability_closes_without_payout(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api, cause="refused")
    await to_liability(api, claim_id, liability="customer")
    goodwill = await post(api, claim_id, "compensation_set",
                          {"amount_minor": 100, "currency": "CNY"})
    assert error_code(goodwill) == "compensation_above_cap"
    closed = await post(api, claim_id, "compensation_set", {"amount_minor": 0, "currency": "CNY"})
    assert closed.json()["state"] == "closed"
    claim = await claim_of(api, claim_id, state="closed")
    assert (claim["outcome"], claim["cap_basis"], claim["voucher"]) == (
        "no_compensation", "not_liable", None)
    after = await post(api, claim_id, "note", {"text": "customer called back"})
    assert after.status_code == 409 and error_code(after) == "invalid_transition"


async def test_list_filters_and_pages(api: Api) -> None:
    order_a, damaged = await claim_on_cancelled_order(api, cause="damaged")
    _, lost = await claim_on_cancelled_order(api, cause="lost")
    _, short = await claim_on_cancelled_order(api, cause="short")
    await to_liability(api, short, liability="warehouse")
    await claim_of(api, short, step="liability_decided")

    async def ids(role: str = "operator", **params: Any) -> list[str]:
        resp = await api.get("/v1/claims", role=role, **params)
        assert resp.status_code == 200, resp.text
        return [c["id"] for c in resp.json()["items"]]

    mine = {damaged, lost, short}
    assert [i for i in await ids(role="auditor") if i in mine] == [short, lost, damaged]
    assert await ids(order_id=order_a) == [damaged]
    assert [i for i in await ids(cause="lost") if i in mine] == [lost]
    assert [i for i in await ids(liability="warehouse") if i in mine] == [short]
    assert [i for i in await ids(step="liability_decided") if i in mine] == [short]
    assert [i for i in await ids(state="open") if i in mine] == [short, lost, damaged]
    assert [i for i in await ids(customer_id="C-88") if i in mine] == [short, lost, damaged]
    assert await ids(state="closed", order_id=order_a) == []

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/claims", **params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [i for i in seen if i in mine] == [short, lost, damaged]
    assert len(seen) == len(set(seen))

    assert error_code(await api.get("/v1/claims", cursor="garbage")) == "invalid_cursor"
    assert (await api.get("/v1/claims", cause="stolen")).status_code == 422
    missing = await api.get("/v1/claims/SO-x-CL9")
    assert missing.status_code == 404 and error_code(missing) == "claim_not_found"


async def test_documents_are_archived_and_streamed_back(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api)
    pdf = minimal_pdf("accident report: two cartons crushed")
    first = await upload(api, claim_id, "accident_report", pdf, filename="事故报告.pdf")
    assert first.status_code == 201, first.text
    doc = first.json()
    assert (doc["kind"], doc["content_type"], doc["size"], doc["duplicate"]) == (
        "accident_report", "application/pdf", len(pdf), False)
    again = await upload(api, claim_id, "accident_report", pdf, filename="copy.pdf")
    assert again.status_code == 200 and again.json()["duplicate"] is True

    got = await api.http.get(doc["url"], headers=api.auth("auditor"))
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-sha256"] == doc["sha256"]
    assert "filename*=UTF-8''" in got.headers["content-disposition"]

    not_a_doc = await upload(api, claim_id, "photo", b"GIF89a....")
    assert not_a_doc.status_code == 415 and error_code(not_a_doc) == "unsupported_media_type"
    no_kind = await upload(api, claim_id, None, pdf)
    assert no_kind.status_code == 422 and error_code(no_kind) == "validation_error"
    bad_kind = await upload(api, claim_id, "selfie", pdf)
    assert bad_kind.status_code == 422
    assert (await upload(api, claim_id, "photo", pdf, role="auditor")).status_code == 403
    unknown = await api.http.get(f"/v1/claims/{claim_id}/documents/{'0' * 64}",
                                 headers=api.auth("operator"))
    assert unknown.status_code == 404 and error_code(unknown) == "document_not_found"

    # Evidence completes once the customer is contacted and both documents are on file.
    await post(api, claim_id, "customer_contacted", {"channel": "visit"})
    note = await upload(api, claim_id, "delivery_note", minimal_png())
    assert note.json()["step"] == "evidence_collected"
    await post(api, claim_id, "withdrawn", {"reason": "goods found intact"})
    await claim_of(api, claim_id, state="closed")
    late = await upload(api, claim_id, "photo", minimal_png(shade=10))
    assert late.status_code == 409 and error_code(late) == "invalid_transition"
