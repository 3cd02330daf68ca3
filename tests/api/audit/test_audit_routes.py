"""An order's audit chain over HTTP and the CLI: verify it, tamper with the database directly
and see the broken link named, export it and check it offline with the README's script."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from db.engine import make_engine, session_factory
from tests.support.api_harness import Api, created
from tests.support.polling import eventually

README = Path(__file__).resolve().parents[3] / "README.md"
ROOT = README.parent


def readme_script() -> str:
    """The script under "Verifying an order's audit chain", exactly as the README gives it."""
    section = README.read_text().split("### Verifying an order's audit chain", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def tamper(api: Api, sql: str, **params: Any) -> None:
    """Change the database directly, as someone with its password would (past PostgreSQL's
    append-only triggers: the test server's superuser may skip them)."""
    engine = make_engine(api.settings.db_url)
    try:
        with session_factory(engine).begin() as session:
            if engine.dialect.name == "postgresql":
                session.execute(text("SET LOCAL session_replication_role = replica"))
            session.execute(text(sql), params)
    finally:
        engine.dispose()


async def _verify(api: Api, order_id: str) -> dict[str, Any]:
    resp = await api.get(f"/v1/orders/{order_id}/audit/verify", role="auditor")
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _cli(api: Api, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WAYBILL_DATABASE_URL": api.settings.db_url,
           "WAYBILL_DATA_DIR": str(api.settings.data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "audit", *args], env=env,
                          capture_output=True, text=True, timeout=120)


async def test_verify_export_and_the_readme_script(api: Api, tmp_path: Path) -> None:
    order_id = await created(api)
    assert (await api.event(order_id, "confirmed")).status_code == 200
    note = await api.event(order_id, "note", {"text": "客户要求周五送达"}, role="operator")
    assert note.status_code == 200, note.text

    async def three_links() -> dict[str, Any] | None:
        body = await _verify(api, order_id)
        return body if body["links_checked"] >= 3 else None
    body = await eventually(three_links)
    assert body["ok"] and body["first_broken"] is None and body["order_id"] == order_id

    # Only auditors and admins; an unknown order is a 404 with its code.
    assert (await api.get(f"/v1/orders/{order_id}/audit/verify", role="operator")
            ).status_code == 403
    missing = await api.get("/v1/orders/NOPE-1/audit/verify", role="admin")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "order_not_found"

    export = await api.get(f"/v1/orders/{order_id}/audit/chain", role="auditor")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [ln["seq"] for ln in lines] == list(range(1, len(lines) + 1))
    # The note's text is personal data (issue 17 §6): the chain holds its salted-hash
    # placeholder, the text is in personal_values, to be redacted without breaking the chain.
    assert not any("客户要求周五送达" in (ln["content"] or "") for ln in lines)
    assert any('"text":"$personal:' in (ln["content"] or "") for ln in lines)
    script = tmp_path / "verify_chain.py"
    script.write_text(readme_script())
    assert len(readme_script().strip().splitlines()) <= 11
    good = tmp_path / "chain.jsonl"
    good.write_text(export.text, encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), str(good)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and run.stdout.startswith(f"ok: {len(lines)} links"), run.stderr

    # An exported line edited: the script names it.
    edited = [dict(ln) for ln in lines]
    edited[1]["content"] = edited[1]["content"][:-1] + ',"extra":1}'
    bad = tmp_path / "edited.jsonl"
    bad.write_text("".join(json.dumps(ln, ensure_ascii=False) + "\n" for ln in edited))
    run = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0 and "link 2: row edited or deleted" in run.stderr

    # The CLI agrees, then the database is edited directly: both name the row.
    ok = _cli(api, "verify", "--order", order_id)
    assert ok.returncode == 0 and ok.stdout.startswith(f"ok {order_id}: "), ok.stderr
    tamper(api, "UPDATE order_events SET data = :d WHERE order_id = :o AND type = 'note'",
           d=json.dumps({"text": "改过了"}), o=order_id)
    body = await _verify(api, order_id)
    broken = body["first_broken"]
    assert not body["ok"] and broken["problem"] == "row_edited"
    assert broken["table"] == "order_events" and order_id in broken["key"]
    assert body["problems"] == [broken]
    # A second row edited in the same chain: both are named, in chain order.
    tamper(api, "UPDATE order_events SET actor = 'someone-else' WHERE order_id = :o "
           "AND type = 'order_created'", o=order_id)
    body = await _verify(api, order_id)
    assert [(b["problem"], b["seq"]) for b in body["problems"]] == [
        ("row_edited", 1), ("row_edited", broken["seq"])]
    listed = _cli(api, "verify", "--all")
    assert listed.returncode == 1
    assert [ln for ln in listed.stdout.splitlines() if ln.startswith("BROKEN")] == [
        f"BROKEN {order_id} at link {b['seq']}: row_edited: {b['message']}"
        for b in body["problems"]]

    tamper(api, "DELETE FROM order_events WHERE order_id = :o AND type = 'note'", o=order_id)
    problems = (await _verify(api, order_id))["problems"]
    assert [b["problem"] for b in problems] == ["row_edited", "row_deleted"]


@pytest.mark.one_engine
async def test_a_signed_checkpoint_catches_a_chain_rewritten_whole(api: Api) -> None:
    order_id = await created(api)
    sealed = _cli(api, "checkpoint")
    assert sealed.returncode == 0 and "checkpoint 1:" in sealed.stdout, sealed.stderr
    assert api.settings.audit_checkpoint_key is None  # `make run`'s case: a generated key
    assert (api.settings.data_dir / "audit_checkpoint_key").exists()
    # The forger deletes the order's first entry and its link, and moves the head back.
    tamper(api, "DELETE FROM order_events WHERE order_id = :o", o=order_id)
    tamper(api, "DELETE FROM audit_links WHERE order_id = :o", o=order_id)
    tamper(api, "DELETE FROM audit_heads WHERE order_id = :o", o=order_id)
    broken = (await _verify(api, order_id))["first_broken"]
    assert broken["problem"] == "checkpoint_mismatch"
    assert "checkpoint 1" in broken["message"]
