"""The carrier channel: a shipped order's tracking number subscribed with Kuaidi100.

One form POST per attempt to `<kuaidi100_base_url>/poll`, as Kuaidi100 documents it:
`schema=json&param={"company", "number", "key", "parameters": {"callbackurl", "salt",
"resultv2"}}`. The callback is our push endpoint (PUBLIC_URL/v1/carrier-feeds/kuaidi100),
the salt the one its pushes are signed with, resultv2=4 asks for the high-precision states.
Kuaidi100 answers `{"result": true, "returnCode": "200"}`; returnCode 501 (already subscribed)
is as good. A 5xx, returnCode 500, a timeout or a refused connection is tried again (the row's
DeliveryWorkflow: a day of retries); any other refusal (a bad key, a number it will not take)
fails the row at once, for an operator to fix and redeliver. The key and the salt are read from
settings at each attempt and never logged or stored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from activities.notify.attempt import Attempt, NotSent
from config import Settings
from db.notifications.models import OutboxStatus

log = logging.getLogger("waybill.notify")

USER_AGENT = "Waybill-CarrierFeeds/1.0"
CALLBACK_PATH = "/v1/carrier-feeds/kuaidi100"
TAKEN = frozenset({"200", "501"})  # subscribed; already subscribed (重复订阅)
TRY_AGAIN = frozenset({"500"})  # its server error


def subscription_param(settings: Settings, payload: dict[str, Any]) -> dict[str, Any]:
    """The `param` JSON of a subscription (the key and salt from settings)."""
    assert settings.kuaidi100_key is not None and settings.kuaidi100_salt is not None
    parameters: dict[str, str] = {
        "callbackurl": settings.public_url + CALLBACK_PATH,
        "salt": settings.kuaidi100_salt.get_secret_value(),
        "resultv2": "4",
    }
    company = payload.get("company") or ""
    if not company:
        parameters["autoCom"] = "1"  # a carrier our table does not know: Kuaidi100 guesses
    return {"company": company, "number": payload["number"],
            "key": settings.kuaidi100_key.get_secret_value(), "parameters": parameters}


def deliver_by_carrier(attempt: Attempt, settings: Settings) -> str:
    if settings.kuaidi100_key is None or settings.kuaidi100_salt is None:
        # Written while configured, sent after the key or salt was removed: nothing to do.
        return attempt.settle(OutboxStatus.SKIPPED, "kuaidi100 not configured")
    token = attempt.claim()
    if token is None:
        return attempt.current_status()
    param = json.dumps(subscription_param(settings, attempt.row.payload), ensure_ascii=False,
                       separators=(",", ":"))
    url = settings.kuaidi100_base_url.rstrip("/") + "/poll"
    try:
        with httpx.Client(timeout=settings.kuaidi100_timeout_seconds,
                          follow_redirects=False) as client:
            response = client.post(url, data={"schema": "json", "param": param},
                                   headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        return attempt.failed(token, NotSent(f"kuaidi100 {type(exc).__name__}"))
    status = response.status_code
    try:
        answer = response.json()
        code = str(answer.get("returnCode", ""))[:10]
        taken = answer.get("result") is True or code in TAKEN
    except (ValueError, AttributeError):
        code, taken = "", False
    if 200 <= status < 300 and taken:
        return attempt.delivered(token, http_status=status)
    # Its own words are not kept: the code says enough, and the text may echo what we sent.
    permanent = status < 500 and code not in TRY_AGAIN
    return attempt.failed(token, NotSent(f"kuaidi100 answered {status} returnCode {code}",
                                         permanent=permanent), http_status=status)
