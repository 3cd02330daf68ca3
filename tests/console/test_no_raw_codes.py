"""Issue 18 §6: every console page, in both languages, with real data, shows codes in words.

One order has been through an escalation (climbed, acknowledged, resolved), a note, a
cancellation, a claim and a complaint (tests/support/story_harness.py); another was delivered
damaged after a delivery exception (the workflow opened its claim itself) and answered its
survey with low scores (a complaint: tests/support/damaged_harness.py). Every page of PAGES is
rendered for an admin in each language and read as a person reads it
(tests/support/raw_codes.py): no code of the system's vocabularies may show as a word.

A third order's escalation is still open, reassigned to a team and snoozed.

A new page goes into PAGES (a path; `{order}`, `{damaged}`, `{waiting}`, `{escalation}`,
`{open_escalation}`, `{subscription}` stand for the story's ids).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.api_harness import Api, created
from tests.support.console_harness import sign_in
from tests.support.damaged_harness import DAMAGED_LADDER, damaged_order
from tests.support.escalations_harness import escalation_of
from tests.support.raw_codes import raw_codes, vocabulary
from tests.support.story_harness import told_order
from tests.support.subscriptions_harness import new_subscription

pytestmark = pytest.mark.one_engine  # what is read is the pages' words, not the SQL

PAGES = (
    "/console/board",
    "/console/board?breached=1",
    "/console/orders/{order}",
    "/console/orders/{damaged}",
    "/console/orders/new",
    "/console/orders?stage=closed",
    "/console/orders?stage=cancelled",
    "/console/claims",
    "/console/claims?state=closed",
    "/console/claims/{damaged}-CL1",
    "/console/claims/{order}-CL1",
    "/console/complaints",
    "/console/complaints/{damaged}-CP1",
    "/console/complaints/CP-{order}",
    "/console/escalations",
    "/console/escalations?state=resolved",
    "/console/escalations/{escalation}",
    "/console/escalations/{open_escalation}",
    "/console/orders/{waiting}",
    "/console/audit",
    "/console/audit/orders/{order}",
    "/console/audit/orders/{damaged}",
    "/console/kpis",
    "/console/reports/follow-up-monthly?month={month}",
    "/console/webhooks",
    "/console/webhooks/{subscription}",
    "/console/preferences",
)


async def waiting_order(api: Api) -> tuple[str, str]:
    """An order whose escalation is open at level 2, reassigned to a team and snoozed."""
    order_id = await created(api)
    esc = await escalation_of(api, order_id, level=2)
    until = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    for action, body in (("reassign", {"assignee": "cs_manager", "comment": "客服经理跟进"}),
                         ("snooze", {"until": until})):
        resp = await api.http.post(f"/v1/escalations/{esc['id']}/{action}", json=body,
                                   headers=api.auth("supervisor"))
        assert resp.status_code == 200, resp.text
    return order_id, esc["id"]


@pytest.fixture(scope="module")
def stack_options() -> dict[str, Any]:
    return {"policy": DAMAGED_LADDER}


async def test_no_page_shows_a_code_raw(api: Api) -> None:
    order_id, escalation_id = await told_order(api)
    damaged = await damaged_order(api.http, api.keys)
    subscription = await new_subscription(api)
    waiting, open_escalation = await waiting_order(api)
    ids = {"order": order_id, "damaged": damaged, "escalation": escalation_id,
           "waiting": waiting, "open_escalation": open_escalation,
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
