"""Histories recorded from real runs must replay against the current workflow code.

A failure here means a change to workflow logic would break running orders: guard it with
`workflow.patched(...)` instead of changing behaviour in place. Replayed through the encrypting
converter (tests/support/codec.py): histories recorded in clear before payloads were encrypted
pass through its codec as they are, and newer ones are sealed with the test key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from shared.sandbox import workflow_runner
from tests.support.codec import TEST_CONVERTER
from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def test_histories_are_committed() -> None:
    assert len([p for p in HISTORIES if ".ladder-" not in p.name]) >= 4
    assert [p for p in HISTORIES if ".ladder-" in p.name]


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays_on_current_code(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(),
                   data_converter=TEST_CONVERTER).replay_workflow(history)
