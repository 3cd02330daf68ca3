"""One order with a story of every kind (issue 17 §1): escalated to level 2 (its notice read
in the in-app inbox, acknowledged, waived with a long Chinese text, then resolved by the
cancellation), noted, cancelled, claimed
and complained about. The API tests of the merged timeline and of its exports share it."""

from __future__ import annotations

from typing import Any

from tests.support.api_harness import Api, order_body
from tests.support.builders import policy_yaml
from tests.support.claims_harness import claim_of, open_claim
from tests.support.complaints_harness import open_complaint
from tests.support.escalations_harness import escalation_of
from tests.support.polling import eventually

# The ladder climbs to level 2 a second after confirm_late: the stack's policy (stack_options).
STORY_LADDER = policy_yaml(confirm_within="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""
# Longer than the 160 characters the timeline used to cut at, and not ASCII.
RESOLUTION = "已致电客户说明延误原因，客户同意改约次日上午送达；" * 8
NOTE = "仓库今日人手不足，已告知客户稍后回电。"
WAIVER = "客户已同意取消，待系统记录。"
STORY_KINDS = {"order", "escalation", "claim", "complaint", "notification"}


async def _act(api: Api, esc_id: str, action: str, body: dict[str, Any], role: str) -> None:
    resp = await api.http.post(f"/v1/escalations/{esc_id}/{action}", json=body,
                               headers=api.auth(role))
    assert resp.status_code == 200, resp.text


async def told_order(api: Api) -> tuple[str, str]:
    """An order escalated to level 2 and resolved, noted, cancelled, claimed, complained."""
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    esc = await escalation_of(api, order_id, level=2)
    # the supervisors' team reads the level-2 notice in its in-app inbox
    async def level_2_notice() -> dict[str, Any] | None:
        inbox = (await api.get("/v1/inbox", role="supervisor")).json()["items"]
        return next((i for i in inbox if i["escalation_id"] == esc["id"]), None)
    notice = await eventually(level_2_notice)
    read = await api.http.post(f"/v1/inbox/{notice['id']}/read", headers=api.auth("supervisor"))
    assert read.status_code == 200, read.text
    await _act(api, esc["id"], "acknowledge", {"comment": "我来处理"}, "supervisor")
    # The order is not confirmed yet: resolving is a waiver (issue 18 §2); the cancellation
    # below then clears the condition, and Waybill resolves it for good.
    await _act(api, esc["id"], "resolve", {"code": "customer_informed", "text": RESOLUTION,
                                           "waive": True, "reason": WAIVER}, "admin")
    assert (await api.event(order_id, "note", {"text": NOTE})).status_code == 200
    assert (await api.event(order_id, "cancelled", {"reason": "客户撤单"})).status_code == 200
    claim = await open_claim(api, order_id)
    assert claim.status_code == 201, claim.text
    await claim_of(api, claim.json()["claim_id"])
    complaint = await open_complaint(api, {"complaint_id": f"CP-{order_id}",
                                           "order_id": order_id, "category": "delay",
                                           "description": "两天没有消息。"})
    assert complaint.status_code == 201, complaint.text

    async def whole() -> list[dict[str, Any]] | None:
        items = (await api.get(f"/v1/orders/{order_id}/timeline", role="auditor")).json()
        items = items["items"]
        ladder = {i["type"] for i in items if i["kind"] == "escalation"}
        done = {"waived", "resolved"} <= ladder
        return items if {i["kind"] for i in items} == STORY_KINDS and done else None
    await eventually(whole, timeout=30)
    return order_id, esc["id"]
