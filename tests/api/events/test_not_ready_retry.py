"""An update the server refused as "workflow not ready" (its task just failed) is sent again
under the same id; any other refusal is the caller's at once."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from api.events import idempotency
from api.events.idempotency import update_retrying_not_ready


def _refusals(*statuses: RPCStatusCode) -> tuple[list[int], object]:
    calls: list[int] = []
    pending = list(statuses)

    async def send() -> str:
        calls.append(1)
        if pending:
            raise RPCError("refused", pending.pop(0), b"")
        return "applied"

    return calls, send


async def test_not_ready_is_sent_again_until_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "NOT_READY_RETRY_DELAYS", (0.0, 0.0, 0.0))
    calls, send = _refusals(RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.FAILED_PRECONDITION)
    assert await update_retrying_not_ready(send) == "applied"  # type: ignore[arg-type]
    assert len(calls) == 3


async def test_other_refusals_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "NOT_READY_RETRY_DELAYS", (0.0, 0.0, 0.0))
    calls, send = _refusals(RPCStatusCode.NOT_FOUND)
    with pytest.raises(RPCError) as refused:
        await update_retrying_not_ready(send)  # type: ignore[arg-type]
    assert refused.value.status == RPCStatusCode.NOT_FOUND and len(calls) == 1


async def test_a_workflow_that_stays_not_ready_is_answered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(idempotency, "NOT_READY_RETRY_DELAYS", (0.0, 0.0))
    calls, send = _refusals(*[RPCStatusCode.FAILED_PRECONDITION] * 5)
    with pytest.raises(RPCError):
        await update_retrying_not_ready(send)  # type: ignore[arg-type]
    assert len(calls) == 3  # one try per delay, then the last one's refusal is the answer
