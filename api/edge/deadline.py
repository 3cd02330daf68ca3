"""One deadline for all of a request's Temporal work.

Temporal's own timeouts are per RPC (an update is polled call after call), so a request whose
update is never accepted (no worker, Temporal down) would wait forever. Every Temporal wait of a
request runs inside `temporal_deadline`; past it the caller gets 503 `temporal_unavailable` with
`Retry-After`. That is safe to retry: events are applied once per `event_id` (the update id),
so a retry of an event that got through after all answers `duplicate: true`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from api.errors import ApiError
from config import Settings


def temporal_unavailable(settings: Settings, reason: str) -> ApiError:
    return ApiError(503, "temporal_unavailable",
                    "the workflow service did not answer in time; retry with the same ids",
                    headers={"Retry-After": str(settings.retry_after_seconds)}, reason=reason)


@contextlib.asynccontextmanager
async def temporal_deadline(settings: Settings) -> AsyncIterator[None]:
    try:
        async with asyncio.timeout(settings.temporal_deadline_seconds):
            yield
    except TimeoutError as exc:
        raise temporal_unavailable(settings, "deadline") from exc
    except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
        raise temporal_unavailable(settings, "update_timeout") from exc
