"""The Temporal connection, shared by the worker, the API and the dev stack.

Framework-free: Temporal's client only, no web framework or database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from opentelemetry.trace import TracerProvider
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from config import Settings
from shared import tracing
from shared.codec import codec_for
from shared.payloads import data_converter

log = logging.getLogger("waybill.temporal")


async def connect(settings: Settings, attempts: int = 60,
                  tracer_provider: TracerProvider | None = None,
                  runtime: Runtime | None = None) -> Client:
    """Connect to Temporal, waiting for it to come up (the dev server starts alongside us).

    With a `tracer_provider` (shared/tracing.py; None = traces off) the client traces its calls,
    and so does a worker built on it. `runtime`: one exporting the SDK's metrics
    (observability/serving.py), else the default. Payloads are encrypted with the settings'
    keys (shared/codec.py); a bad key setting stops start-up here.
    """
    converter = data_converter(codec_for(settings))
    for attempt in range(1, attempts + 1):
        try:
            return await Client.connect(settings.temporal_target,
                                        namespace=settings.temporal_namespace,
                                        interceptors=tracing.interceptors(tracer_provider),
                                        runtime=runtime, data_converter=converter)
        except RuntimeError as exc:
            if attempt == attempts:
                raise
            log.info("waiting for temporal", extra={"target": settings.temporal_target,
                                                     "error": str(exc)})
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


async def ensure_search_attributes(client: Client, namespace: str,
                                   keys: Iterable[SearchAttributeKey[Any]]) -> None:
    """Register search attributes (Waybill's: workflows.order.search.ALL) where missing.

    Idempotent: an attribute that exists, or is added concurrently, is left as it is.
    """
    from temporalio.api.enums.v1 import IndexedValueType
    from temporalio.api.operatorservice.v1 import (
        AddSearchAttributesRequest,
        ListSearchAttributesRequest,
    )

    wanted = {key.name: IndexedValueType.ValueType(key.indexed_value_type) for key in keys}
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace))
    except RPCError as exc:
        # The time-skipping test server can add attributes but cannot list them.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known: set[str] = set()
    else:
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {name: kind for name, kind in wanted.items() if name not in known}
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise
