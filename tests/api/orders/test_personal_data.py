"""An erasure request over HTTP (issue 17 §6), on the whole stack: refused while the order or
its claim is open, then every copy of the customer's name, phone, e-mail and address is gone
from the database, the API shows "[redacted]", the audit chain verifies and ends with the
redaction event; the CLI's retention run says the order is already done."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text

from db.engine import make_engine, session_factory
from tests.support.api_harness import Api, order_body
from tests.support.claims_harness import claim_of, open_claim, post
from tests.support.console_harness import sign_in
from tests.support.polling import eventually

ROOT = Path(__file__).resolve().parents[3]


def _every_text(api: Api) -> str:
    engine = make_engine(api.settings.db_url)
    out: list[str] = []
    try:
        with session_factory(engine)() as session:
            for table in inspect(engine).get_table_names():
                for row in session.execute(text(f'SELECT * FROM "{table}"')):
                    for value in row:
                        if isinstance(value, str):
                            try:
                                value = json.loads(value)
                            except ValueError:
                                out.append(value)
                                continue
                        out.append(json.dumps(value, ensure_ascii=False, default=str))
    finally:
        engine.dispose()
    return "\n".join(out)


async def _redact(api: Api, order_id: str, role: str = "admin") -> Any:
    return await api.http.post(f"/v1/orders/{order_id}/personal-data/redact",
                               headers=api.auth(role))


async def test_an_erasure_request_redacts_every_copy_once_the_order_and_its_claim_closed(
        api: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    name, phone, email = f"客户张三{tag}", f"+86 139 {tag}", f"zhang.{tag}@example.com"
    address = f"上海市徐汇区漕溪北路{tag}号"
    body = order_body()
    body["customer"].update(name=name, phone=phone, email=email)
    body["destination"].update(address=address, contact=f"王五{tag}")
    order_id = body["order_id"]
    assert (await api.create(body)).status_code == 201
    note = await api.event(order_id, "note", {"text": f"{name}来电，电话{phone}"})
    assert note.status_code == 200, note.text

    assert (await _redact(api, order_id, role="auditor")).status_code == 403
    missing = await _redact(api, "NOPE-404")
    assert missing.status_code == 404
    open_order = await _redact(api, order_id)
    assert open_order.status_code == 409 and open_order.json()["error"]["code"] == "order_open"

    cancelled = await api.event(order_id, "cancelled", {"reason": f"{name}撤单"})
    assert cancelled.status_code == 200, cancelled.text
    claim = await open_claim(api, order_id)
    assert claim.status_code == 201, claim.text
    claim_id = claim.json()["claim_id"]
    await claim_of(api, claim_id)

    async def stage(want: str) -> dict[str, Any] | None:
        view = (await api.get(f"/v1/orders/{order_id}", role="auditor")).json()
        return view if view["stage"] == want else None
    await eventually(lambda: stage("cancelled"))
    case_open = await _redact(api, order_id)
    assert case_open.status_code == 409 and case_open.json()["error"]["code"] == "case_open"

    withdrawn = await post(api, claim_id, "withdrawn", {"reason": f"{name}不要了"})
    assert withdrawn.status_code == 200, withdrawn.text
    await claim_of(api, claim_id, state="closed")
    async def redacted() -> dict[str, Any] | None:  # the order's projection of the closing
        resp = await _redact(api, order_id)
        return resp.json() if resp.status_code == 200 else None
    done = await eventually(redacted)
    assert done["values"] > 5 and done["inline_kept"] == 0 and not done["already_redacted"]
    again = await _redact(api, order_id)
    assert again.status_code == 200 and again.json()["already_redacted"]

    view = (await api.get(f"/v1/orders/{order_id}", role="auditor")).json()
    assert view["customer"]["name"] == "[redacted]"
    assert view["destination"]["address"] == "[redacted]"
    assert view["destination"]["city"] == "Shanghai"  # not personal
    items = (await api.get(f"/v1/orders/{order_id}/timeline", role="auditor")).json()["items"]
    notes = [i for i in items if i["type"] == "note"]
    assert notes and notes[0]["data"]["text"] == "[redacted]"
    mine = [i for i in items if i["kind"] == "order"]
    assert mine[-1]["type"] == "personal_data_redacted" and mine[-1]["actor"] != "system"
    verdict = (await api.get(f"/v1/orders/{order_id}/audit/verify", role="auditor")).json()
    assert verdict["ok"], verdict

    claim_view = await api.get(f"/v1/claims/{claim_id}", role="auditor")
    assert claim_view.status_code == 200 and name not in claim_view.text
    assert "[redacted]" in claim_view.text
    for fmt in ("jsonl", "csv"):
        export = await api.get(f"/v1/orders/{order_id}/audit/story.{fmt}", role="auditor")
        assert export.status_code == 200, export.text
        assert "[redacted]" in export.text and name not in export.text

    # The console reads a redacted value in the viewer's language, on the order and claim pages.
    async with httpx.AsyncClient(transport=api.http._transport, base_url="http://waybill") as web:
        assert (await sign_in(web, api.keys["supervisor"], lang="zh-CN")).status_code == 303
        for page in (f"/console/orders/{order_id}", f"/console/claims/{claim_id}"):
            shown = await web.get(page)
            assert shown.status_code == 200 and "（已脱敏）" in shown.text, page
            assert name not in shown.text, page
            # The stored data, one click away under <details>, is shown as stored.
            words = re.sub(r"<pre>.*?</pre>", "", shown.text, flags=re.S)
            assert "[redacted]" not in words, page

    everything = _every_text(api)
    for secret in (name, phone, email, address, f"王五{tag}"):
        assert secret not in everything, secret

    env = {**os.environ, "WAYBILL_DATABASE_URL": api.settings.db_url,
           "WAYBILL_DATA_DIR": str(api.settings.data_dir), "PYTHONPATH": str(ROOT)}
    cli = subprocess.run([sys.executable, str(ROOT / "cli.py"), "retention", "run", "--order",
                          order_id], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert f"skipped {order_id}: already_redacted" in cli.stdout
