"""An order that went wrong on arrival (issue 18 §6): delivered damaged after a failed attempt
(the workflow opens its claim itself), its survey answered with low scores and goods not in
order (a complaint); the customer called about the claim, the complaint routed to the
warehouse and answered by chat. Works on any client with the keys of every role: the in-process API
(tests/support/api_harness.py) and the served site (tests/support/browser.py) alike."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.api_harness import order_body
from tests.support.builders import FULL_PICK, SHIP, policy_yaml
from tests.support.polling import eventually

# The story's ladder (story_harness.STORY_LADDER) with the survey due a second after delivery.
DAMAGED_LADDER = policy_yaml(confirm_within="PT1S", survey_after="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""
# Two low, one not; given in another order than the survey asks them, as a JSON column may
# keep them: every page lists them in the survey's order.
SCORES = {"courtesy": 5, "completeness": 1, "timeliness": 2}
SUGGESTION = "送货前请先打电话"


async def damaged_order(http: httpx.AsyncClient, keys: dict[str, str]) -> str:
    """The order's id once its claim and its complaint are open."""
    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    async def post(type_: str, data: dict[str, Any], role: str = "integration") -> None:
        resp = await http.post(f"/v1/orders/{order_id}/events", headers=auth(role), json={
            "event_id": f"ev-{uuid.uuid4().hex[:10]}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
        assert resp.status_code == 200, resp.text

    async def view() -> dict[str, Any]:
        return (await http.get(f"/v1/orders/{order_id}", headers=auth("operator"))).json()

    body = order_body()
    order_id = body["order_id"]
    created = await http.post("/v1/orders", json=body, headers=auth("operator"))
    assert created.status_code == 201, created.text
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivery_exception", {"reason": "consignee_absent",
                                                "text": "收货人不在"}),
                        ("delivered", {"signer": "Li Lei", "condition": "damaged",
                                       "pod": {"kind": "photo", "ref": "pod-1.jpg"}})):
        await post(type_, data)

    async def survey_due() -> bool:
        return ((await view()).get("follow_up") or {}).get("status") == "due"
    await eventually(survey_due, timeout=30)
    await post("survey_response", {"scores": SCORES, "goods_ok": False,
                                   "suggestions": SUGGESTION, "channel": "api"})

    async def cases() -> dict[str, Any] | None:
        got = await view()
        return got if got.get("claims") and got.get("complaints") else None
    got = await eventually(cases, timeout=30)
    claim, complaint = got["claims"][0], got["complaints"][0]
    claim_id = claim["claim_id"] if isinstance(claim, dict) else claim
    complaint_id = complaint["complaint_id"] if isinstance(complaint, dict) else complaint
    for path, type_, data in (
            (f"/v1/claims/{claim_id}", "customer_contacted", {"channel": "phone",
                                                             "note": "客户确认外箱破损"}),
            (f"/v1/complaints/{complaint_id}", "routed", {"department": "warehouse",
                                                          "category": "damage"}),
            (f"/v1/complaints/{complaint_id}", "first_reply", {
                "text": "已安排补发", "plan": "明日补发两箱", "channel": "chat",
                "promised_by": (datetime.now(UTC) + timedelta(days=1)).isoformat()})):
        resp = await http.post(f"{path}/events", headers=auth("operator"), json={
            "event_id": f"ev-{uuid.uuid4().hex[:10]}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data})
        assert resp.status_code in (200, 202), resp.text
    return order_id
