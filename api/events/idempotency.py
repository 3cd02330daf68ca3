"""What every event endpoint (orders, claims, complaints) means by "the same event".

An event id names one body: a repeat with the same body is a duplicate, applied once; another
body under that id is a 409 `event_id_reused`. The update runs under the event id, so a repeat
that raced past our read of the timeline is answered by the workflow as `duplicate_event`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from pydantic_core import to_jsonable_python
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.edge.payload_limit import check_payload
from api.events.rejections import as_api_error, rejected
from config import Settings

log = logging.getLogger("waybill.api")
T = TypeVar("T")


class _Recorded(Protocol):
    @property
    def body_hash(self) -> str | None: ...


def body_hash(body: Any) -> str:
    canonical = json.dumps(to_jsonable_python(body), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_request_id() -> str:
    """Names the API request an update comes from (EventInput.request_id): 64 random bits
    tell apart the few requests that race with one event id, in 16 characters of history."""
    return uuid.uuid4().hex[:16]


def seen_before(known: _Recorded | None, digest: str, event_id: str) -> bool:
    """True if `known` (the timeline entry under `event_id`, if any) holds this very body."""
    if known is None:
        return False
    if known.body_hash != digest:
        raise rejected("event_id_reused", "event_id was already used for another event",
                       event_id=event_id)
    return True


async def execute_event_update(handle: WorkflowHandle[Any, Any], update: Any, inp: Any,
                               settings: Settings) -> tuple[bool, Any]:
    """Run the update under `inp.event_id`: (True, result or None) if the workflow had applied
    it before, else (False, its result). Validator rejections become ApiErrors
    (api/events/rejections.py); an RPCError (e.g. no such running workflow) is the caller's
    to handle.

    Temporal answers an update whose id it has seen with the first one's outcome, whatever the
    arguments: two requests racing with one event id both get it. A result that echoes the
    applied body's hash and request id (`body_hash`, `request_id`) tells the loser apart: the
    same body is a duplicate, another body `event_id_reused`.
    """
    check_payload(settings, inp, "event")
    try:
        result = await update_retrying_not_ready(
            lambda: handle.execute_update(
                update, inp, id=inp.event_id,
                rpc_timeout=timedelta(seconds=settings.update_timeout_seconds)))
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == "duplicate_event":
            return True, None
        raise as_api_error(exc) or exc from exc.cause
    applied_hash = getattr(result, "body_hash", None)  # the whole hash, or its start
    if applied_hash is not None and not inp.body_hash.startswith(applied_hash):
        raise rejected("event_id_reused", "event_id was already used for another event",
                       event_id=inp.event_id)
    applied_by = getattr(result, "request_id", None)
    if applied_by is not None and applied_by != getattr(inp, "request_id", None):
        return True, result
    return False, result


# An update the server refused before accepting it because the workflow's task just failed
# (FAILED_PRECONDITION, "workflow not ready": e.g. a task that overran its deadline on a
# saturated worker and is being retried) was never applied: sending it again under the same
# update id is safe, and usually lands within a second. The request's Temporal deadline
# (api/edge/deadline.py) bounds the whole wait.
NOT_READY_RETRY_DELAYS = (0.1, 0.3, 1.0, 2.0)


async def update_retrying_not_ready(send: Callable[[], Awaitable[T]]) -> T:
    for delay in NOT_READY_RETRY_DELAYS:
        try:
            return await send()
        except RPCError as exc:
            if exc.status != RPCStatusCode.FAILED_PRECONDITION:
                raise
            log.info("update refused, workflow not ready; sending it again",
                     extra={"retry_in_seconds": delay})
        await asyncio.sleep(delay)
    return await send()
