"""The case loop's continue-as-new (workflows/case.py) for claims and complaints, on the dev
server over the API, with the history limit lowered so a few dozen notes pass it: the case
goes on in a new run, a repeat of an early event is still a duplicate (another body under its
id still refused), and the case then moves and closes as before."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client

import workflows.case as case
from bench.long_feed import runs_of
from tests.support.api_harness import Api, StackFactory, error_code
from tests.support.claims_harness import claim_of, claim_on_cancelled_order
from tests.support.claims_harness import post as post_claim
from tests.support.complaints_harness import open_complaint
from tests.support.complaints_harness import post as post_complaint
from workflows.ids import claim_workflow_id, complaint_workflow_id

NOTES = 60
LIMIT_BYTES = 40_000  # a note is ~8 events, ~1.5 KB of history: a new run every ~25 notes


@pytest.fixture
async def api(make_stack: StackFactory, sqlite_url: str,
              monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(case, "HISTORY_LIMIT_BYTES", LIMIT_BYTES)
    async with make_stack(sqlite_url) as stack:
        yield stack


async def _runs(client: Client, workflow_id: str) -> int:
    runs = await runs_of(client, workflow_id)
    assert all(r.bytes < 2 * LIMIT_BYTES for r in runs), runs
    return len(runs)


async def test_a_claim_continues_as_new_and_still_knows_its_events(api: Api) -> None:
    _, claim_id = await claim_on_cancelled_order(api)
    for i in range(NOTES):
        resp = await post_claim(api, claim_id, "note", {"text": f"call {i}"},
                                event_id=f"ce-note-{i}")
        assert resp.status_code == 200 and not resp.json()["duplicate"], resp.text
    assert await _runs(api.temporal, claim_workflow_id(claim_id)) > 1
    again = await post_claim(api, claim_id, "note", {"text": "call 0"}, event_id="ce-note-0")
    assert again.status_code == 200 and again.json()["duplicate"] is True, again.text
    other = await post_claim(api, claim_id, "note", {"text": "else"}, event_id="ce-note-0")
    assert other.status_code == 409 and error_code(other) == "event_id_reused"
    withdrawn = await post_claim(api, claim_id, "withdrawn", {"reason": "settled"})
    assert withdrawn.status_code == 200, withdrawn.text
    claim = await claim_of(api, claim_id, state="closed")
    assert claim["outcome"] == "withdrawn"
    notes = [e for e in claim["timeline"] if e["type"] == "note"]
    assert len(notes) == NOTES  # each once, numbered on across the runs
    seqs = [e["seq"] for e in claim["timeline"]]
    assert seqs == sorted(set(seqs))


async def test_a_complaint_continues_as_new_and_still_knows_its_events(api: Api) -> None:
    resp = await open_complaint(api, {
        "customer": {"id": "C-CAN", "name": "Sanghong Apparel", "tier": "standard"},
        "category": "billing", "description": "Charged twice."})
    assert resp.status_code == 201, resp.text
    complaint_id, at = resp.json()["id"], datetime.now(UTC)  # the time is part of the body
    for i in range(NOTES):
        note = await post_complaint(api, complaint_id, "note", {"text": f"call {i}"},
                                    event_id=f"ev-note-{i}", occurred_at=at)
        assert note.status_code == 200 and not note.json()["duplicate"], note.text
    assert await _runs(api.temporal, complaint_workflow_id(complaint_id)) > 1
    first = await post_complaint(api, complaint_id, "note", {"text": "call 0"},
                                 event_id="ev-note-0", occurred_at=at)
    assert first.status_code == 200 and first.json()["duplicate"] is True, first.text
    routed = await post_complaint(api, complaint_id, "routed", {"department": "transport"})
    assert routed.status_code == 200, routed.text
    assert routed.json()["complaint"]["step"] == "routed"
