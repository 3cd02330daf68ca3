"""Issue 17 §5 on a whole story: an order escalated (and its notice read), noted, cancelled,
claimed and complained about exports every kind, in both files and in the dossier, with what
people wrote whole and unescaped."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from pypdf import PdfReader

from tests.support.api_harness import Api, order_body
from tests.support.builders import policy_yaml
from tests.support.claims_harness import claim_of, open_claim
from tests.support.complaints_harness import open_complaint
from tests.support.escalations_harness import escalation_of
from tests.support.polling import eventually

pytestmark = pytest.mark.one_engine  # the SQL is the story's, run on both engines elsewhere
LADDER = policy_yaml(confirm_within="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""
# Longer than any cut, and not ASCII.
RESOLUTION = "已致电客户说明延误原因，客户同意改约次日上午送达；" * 6
KINDS = {"order", "escalation", "claim", "complaint", "notification"}


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": LADDER}


async def _told_order(api: Api) -> str:
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    esc = await escalation_of(api, order_id, level=2)
    for action, payload, role in (
            ("acknowledge", {"comment": "我来处理"}, "supervisor"),
            ("resolve", {"code": "customer_informed", "text": RESOLUTION}, "admin")):
        resp = await api.http.post(f"/v1/escalations/{esc['id']}/{action}", json=payload,
                                   headers=api.auth(role))
        assert resp.status_code == 200, resp.text
    assert (await api.event(order_id, "cancelled", {"reason": "客户撤单"})).status_code == 200
    claim = await open_claim(api, order_id)
    assert claim.status_code == 201, claim.text
    await claim_of(api, claim.json()["claim_id"])
    complaint = await open_complaint(api, {"complaint_id": f"CP-{order_id}",
                                           "order_id": order_id, "category": "delay",
                                           "description": "两天没有消息。"})
    assert complaint.status_code == 201, complaint.text

    async def whole() -> bool | None:
        items = (await api.get(f"/v1/orders/{order_id}/timeline", role="auditor")).json()
        kinds = {i["kind"] for i in items["items"]}
        done = any(i["type"] == "resolved" for i in items["items"])
        return True if kinds == KINDS and done else None
    await eventually(whole, timeout=30)
    return order_id


async def test_every_kind_is_in_the_files_and_the_dossier(api: Api) -> None:
    order_id = await _told_order(api)
    base = f"/v1/orders/{order_id}/audit"
    rows = [json.loads(line) for line in
            (await api.get(f"{base}/story.jsonl", role="auditor", lang="en")).text.splitlines()]
    assert {r["kind"] for r in rows} == KINDS
    resolved = next(r for r in rows if r["kind"] == "escalation" and r["type"] == "resolved")
    assert RESOLUTION in resolved["texts"] and "admin" in resolved["sentence"]
    assert all(r["sentence"] and "{" not in r["sentence"] for r in rows)

    raw = (await api.get(f"{base}/story.csv", role="auditor", lang="zh-CN")).content
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0][:4] == ["订单", "类别", "类型", "经过"]
    assert {row[1] for row in table[1:]} == KINDS and len(table) == len(rows) + 1
    assert any(RESOLUTION in cell for row in table for cell in row)

    pdf = (await api.get(f"{base}/dossier.pdf", role="auditor", lang="zh-CN")).content
    pages = PdfReader(io.BytesIO(pdf)).pages
    # pypdf reads fpdf2's two-byte codes with a NUL before each character (test_dossier.py)
    text = "".join(p.extract_text() for p in pages).replace("\x00", "").replace("\n", "")
    assert "两天没有消息。" in text and "客户撤单" in text and "审计链校验" in text
    assert RESOLUTION in text  # whole, across the lines it wraps over
