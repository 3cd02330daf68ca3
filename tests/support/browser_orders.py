"""Orders in given states for the Chromium tests of the board and the order page: a policy that
breaches fast, events posted in a row, and waiting for the escalation or claim an order opens.

(tests/e2e/browser/test_pages.py has the same three helpers of its own; it could use these.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import yaml

from config import DEFAULT_POLICY_FILE
from tests.support.browser import Site


def fast_policies(path: Path) -> Path:
    """The shipped policies plus `fast`: key-account terms, confirmation due within 2 s."""
    data = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    data["policies"]["fast"] = dict(data["policies"]["key_account"], confirm_within="PT2S")
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


async def events(site: Site, order_id: str, *steps: tuple[str, dict],
                 role: str = "integration") -> None:
    for type_, data in steps:
        resp = await site.post(f"/v1/orders/{order_id}/events", {
            "event_id": f"ev-{order_id}-{type_}", "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data}, role=role)
        assert resp.status_code == 200, resp.text


async def first_item(site: Site, path: str, order_id: str) -> dict:
    """The first item GET `path`?order_id= lists, waiting up to 30 s for one."""
    for _ in range(120):
        got = await site.http.get(path, params={"order_id": order_id},
                                  headers={"Authorization": f"Bearer {site.keys['admin']}"})
        assert got.status_code == 200, got.text
        if got.json()["items"]:
            return got.json()["items"][0]
        await asyncio.sleep(0.25)
    raise AssertionError(f"nothing in {path} for {order_id}")
