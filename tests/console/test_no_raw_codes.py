"""Issue 18 §6: every console page, in both languages, with real data, shows codes in words.

One order has been through an escalation (climbed, acknowledged, resolved), a note, a
cancellation, a claim and a complaint (tests/support/story_harness.py); another was delivered
damaged (the workflow opened its claim itself), answered its survey with low scores (a
complaint) and has a delivery exception. Every page of PAGES is rendered for an admin in each
language and read as a person reads it (tests/support/raw_codes.py): no code of the system's
vocabularies may show as a word.

A new page goes into PAGES (a path; `{order}`, `{damaged}`, `{escalation}`, `{subscription}`
stand for the story's ids).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.api_harness import Api, order_body
from tests.support.builders import FULL_PICK, SHIP, policy_yaml
from tests.support.console_harness import sign_in
from tests.support.polling import eventually
from tests.support.raw_codes import raw_codes, vocabulary
from tests.support.story_harness import told_order
from tests.support.subscriptions_harness import new_subscription

pytestmark = pytest.mark.one_engine  # what is read is the pages' words, not the SQL

# The story's ladder (story_harness.STORY_LADDER) with a survey due a second after delivery.
LADDER = policy_yaml(confirm_within="PT1S", survey_after="PT1S") + """    escalation:
      repeat_every: PT1H
      snooze_max: PT1H
      levels:
        - {level: 1, recipients: [ops_desk], ack_within: PT1S, resolve_within: PT1H}
        - {level: 2, recipients: [supervisor], ack_within: PT1H, resolve_within: PT1H}
"""

PAGES = (
    "/console/board",
    "/console/board?breached=1",
    "/console/orders/{order}",
    "/console/orders/{damaged}",
    "/console/orders/new",
    "/console/escalations",
    "/console/escalations?state=resolved",
    "/console/escalations/{escalation}",
    "/console/audit",
    "/console/audit/orders/{order}",
    "/console/audit/orders/{damaged}",
    "/console/kpis",
    "/console/reports/follow-up-monthly?month={month}",
    "/console/webhooks",
    "/console/webhooks/{subscription}",
    "/console/preferences",
)


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": LADDER}


async def _post(api: Api, order_id: str, type_: str, data: dict[str, Any]) -> None:
    resp = await api.event(order_id, type_, data)
    assert resp.status_code == 200, resp.text


async def damaged_order(api: Api) -> str:
    """Delivered damaged after a failed attempt, its survey answered with low scores."""
    body = order_body()
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    for type_, data in (("confirmed", {}), ("picked", FULL_PICK), ("shipped", SHIP),
                        ("delivery_exception", {"reason": "consignee_absent",
                                                "text": "收货人不在"}),
                        ("delivered", {"signer": "Li Lei", "condition": "damaged",
                                       "pod": {"kind": "photo", "ref": "pod-1.jpg"}})):
        await _post(api, order_id, type_, data)

    async def survey_due() -> bool:
        view = (await api.get(f"/v1/orders/{order_id}")).json()
        return (view.get("follow_up") or {}).get("status") == "due"
    await eventually(survey_due, timeout=30)
    await _post(api, order_id, "survey_response", {
        "scores": {"timeliness": 2, "completeness": 1, "courtesy": 5}, "goods_ok": False,
        "suggestions": "送货前请先打电话", "channel": "api"})

    async def cases() -> bool:
        view = (await api.get(f"/v1/orders/{order_id}")).json()
        return bool(view.get("claims")) and bool(view.get("complaints"))
    await eventually(cases, timeout=30)
    return order_id


async def test_no_page_shows_a_code_raw(api: Api) -> None:
    order_id, escalation_id = await told_order(api)
    damaged = await damaged_order(api)
    subscription = await new_subscription(api)
    ids = {"order": order_id, "damaged": damaged, "escalation": escalation_id,
           "subscription": subscription["id"], "month": datetime.now(UTC).strftime("%Y-%m")}
    codes = vocabulary()
    raw: dict[str, dict[str, str]] = {}
    for lang, locale in (("en-US", "en"), ("zh-CN", "zh-CN")):
        signed = await sign_in(api.http, api.keys["admin"], lang)
        assert signed.status_code == 303, signed.text
        for path in PAGES:
            url = path.format(**ids)
            resp = await api.http.get(url)
            assert resp.status_code == 200, (url, resp.status_code)
            found = raw_codes(resp.text, locale, codes)
            if found:
                raw[f"{locale} {url}"] = found
    assert raw == {}, "codes shown raw:\n" + "\n".join(
        f"{page}: {code!r} in {text!r}" for page, found in raw.items()
        for code, text in sorted(found.items()))
