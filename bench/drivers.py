"""The two ways `bench.throughput` walks an order down the happy path: over Waybill's HTTP API,
and straight through the Temporal client against the skeleton (bench/skeleton.py).

One walk for both (`Driver.walk`): create, confirmed, picked, shipped, a tracking scan,
delivered, the receipt, then (once the survey falls due) the survey answer, which closes the
order. Every accepted write is timed; a refusal, error or timeout ends that order's walk and
is counted under its HTTP status and code (or its Temporal error).
"""

from __future__ import annotations

import asyncio
import json
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import aiohttp
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.events.idempotency import update_retrying_not_ready
from bench.skeleton import STAGE, SkeletonOrderWorkflow
from bench.skeleton_types import SkeletonEventInput, SkeletonOrderInput
from demo.documents import receipt_pdf
from workflows.ids import order_workflow_id

T = TypeVar("T")
LINES = [{"sku": "SKU-1", "qty": 2}, {"sku": "SKU-2", "qty": 1}]
# (step, event type, data): the events posted between creation and the receipt.
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("confirmed", "confirmed", {}),
    ("picked", "picked", {"lines": LINES}),
    ("shipped", "shipped", {"carrier": "SF Express", "tracking_no": "SF1000001"}),
    ("scan-1", "tracking_scan", {"location": "Shanghai hub", "status": "departed"}),
    ("delivered", "delivered", {"signer": "Li Lei", "condition": "intact",
                                "pod": {"kind": "signature", "ref": "sig-1"}}),
]
# Scores above every policy's low_score_max: a low score would open a complaint.
SURVEY = {"goods_ok": True, "scores": {"timeliness": 5, "completeness": 5, "courtesy": 5},
          "channel": "api"}
POLL_EVERY = 0.2  # seconds between looks at whether the survey fell due


class Failed(Exception):  # noqa: N818 - an outcome of one order, counted under `label`
    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


@dataclass
class Tally:
    """One round of one system: orders started and closed, accept latencies, errors."""

    started: int = 0
    closed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    # Accept latencies by write (create, each event type, the receipt): where a gap is.
    by_write: dict[str, list[float]] = field(default_factory=dict)

    @property
    def accept_seconds(self) -> list[float]:
        """Every accepted write's latency, whichever write it was."""
        return [took for writes in self.by_write.values() for took in writes]


class Driver(ABC):
    name: str

    def __init__(self, survey_after: float, timeout: float) -> None:
        self.survey_after, self.timeout = survey_after, timeout

    @staticmethod
    @abstractmethod
    def workflow_id(order_id: str) -> str:
        """The id of the order's workflow (to read its history)."""

    @abstractmethod
    async def create(self, order_id: str) -> None: ...

    @abstractmethod
    async def event(self, order_id: str, event_id: str, type_: str,
                    data: dict[str, Any]) -> str:
        """Post one event; the order's stage after it."""

    @abstractmethod
    async def receipt(self, order_id: str) -> None: ...

    @abstractmethod
    async def survey_due(self, order_id: str) -> bool: ...

    async def aclose(self) -> None:
        return None

    async def walk(self, order_id: str, tally: Tally) -> None:
        tally.started += 1
        try:
            await self._timed(tally, "create", self.create(order_id))
            for step, type_, data in STEPS:
                await self._timed(tally, type_,
                                  self.event(order_id, f"{order_id}.{step}", type_, data))
            await self._timed(tally, "receipt", self.receipt(order_id))
            await self._wait_for_survey(order_id)
            stage = await self._timed(tally, "survey_response", self.event(
                order_id, f"{order_id}.survey", "survey_response", SURVEY))
        except Failed as exc:
            tally.errors[exc.label] += 1
            return
        if stage == "closed":
            tally.closed += 1
        else:
            tally.errors[f"ended in stage {stage}"] += 1

    @staticmethod
    async def _timed(tally: Tally, write: str, call: Awaitable[T]) -> T:
        began = time.perf_counter()
        result = await call
        tally.by_write.setdefault(write, []).append(time.perf_counter() - began)
        return result

    async def _wait_for_survey(self, order_id: str) -> None:
        give_up = time.monotonic() + self.survey_after + self.timeout
        while not await self.survey_due(order_id):
            if time.monotonic() > give_up:
                raise Failed("survey never fell due")
            await asyncio.sleep(POLL_EVERY)


def order_body(order_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"order_id": order_id, "customer": {"id": "C-BENCH", "name": "Bench Co"},
            "lines": LINES, "destination": {"address": "1 Bench Road"},
            "promised_ship_by": (now + timedelta(days=1)).isoformat(),
            "promised_delivery_by": (now + timedelta(days=2)).isoformat()}


class WaybillDriver(Driver):
    """Waybill over HTTP. The client is aiohttp, not httpx: on these two cores the load
    generator's own CPU is taken from the stack it measures, and httpx spent ~0.85 ms of CPU
    per request against aiohttp's ~0.16 (bench/README.md); the skeleton's client is the SDK's
    Rust core, so an expensive HTTP client would bill the bench's overhead to Waybill."""

    name = "waybill"

    @staticmethod
    def workflow_id(order_id: str) -> str:
        return order_workflow_id(order_id)

    def __init__(self, base_url: str, key: str, survey_after: float, timeout: float) -> None:
        super().__init__(survey_after, timeout)
        self._base_url, self._key = base_url.rstrip("/"), key
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        # Made on first use: a ClientSession belongs to the running event loop.
        if self._http is None:
            self._http = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self._key}"},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                connector=aiohttp.TCPConnector(limit=200))
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._session().request(method, self._base_url + path, **kwargs) as resp:
                status, raw = resp.status, await resp.read()
        except TimeoutError:
            raise Failed("timeout") from None
        except aiohttp.ClientError as exc:
            raise Failed(f"transport {type(exc).__name__}") from None
        if status >= 400:
            try:
                error = json.loads(raw)["error"]
                code = error["code"]
                # Why, where the envelope says (a 503's `reason` or RPC `status`), so a run
                # tells a deadline from a refusal.
                why = {k: v for k, v in (error.get("details") or {}).items()
                       if k in ("reason", "status")}
                if why:
                    code += f" {why}"
            except (ValueError, KeyError, TypeError, AttributeError):
                code = "(no error envelope)"
            raise Failed(f"HTTP {status} {code} {method} {path.rsplit('/', 1)[-1]}")
        body: dict[str, Any] = json.loads(raw)
        return body

    async def create(self, order_id: str) -> None:
        await self._send("POST", "/v1/orders", json=order_body(order_id))

    async def event(self, order_id: str, event_id: str, type_: str,
                    data: dict[str, Any]) -> str:
        done = await self._send("POST", f"/v1/orders/{order_id}/events", json={
            "event_id": event_id, "type": type_, "occurred_at": datetime.now(UTC).isoformat(),
            "data": data})
        return str(done["stage"])

    async def receipt(self, order_id: str) -> None:
        """The upload; the API archives it and posts `receipt_returned` itself."""
        pdf = receipt_pdf(order_id, "Li Lei", datetime.now(UTC).isoformat())
        form = aiohttp.FormData()
        form.add_field("file", pdf, filename=f"receipt-{order_id}.pdf",
                       content_type="application/pdf")
        await self._send("POST", f"/v1/orders/{order_id}/receipt", data=form)

    async def survey_due(self, order_id: str) -> bool:
        view = await self._send("GET", f"/v1/orders/{order_id}")
        return (view.get("follow_up") or {}).get("status") == "due"


class SkeletonDriver(Driver):
    name = "skeleton"

    @staticmethod
    def workflow_id(order_id: str) -> str:
        return f"skeleton-{order_id}"

    def __init__(self, client: Client, task_queue: str, survey_after: float,
                 timeout: float) -> None:
        super().__init__(survey_after, timeout)
        self._client, self._task_queue = client, task_queue

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self.timeout)
        except TimeoutError:
            raise Failed("timeout") from None
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
            raise Failed(f"update failed {kind}") from None
        except WorkflowAlreadyStartedError:
            raise Failed("workflow already started") from None
        except RPCError as exc:
            raise Failed(f"rpc {exc.status.name if exc.status else 'error'}: "
                         f"{exc.message[:160]}") from None

    def _handle(self, order_id: str) -> Any:
        return self._client.get_workflow_handle(self.workflow_id(order_id))

    async def create(self, order_id: str) -> None:
        await self._call(self._client.start_workflow(
            SkeletonOrderWorkflow.run,
            SkeletonOrderInput(order_id=order_id, received_at=datetime.now(UTC),
                               survey_after_seconds=self.survey_after),
            id=self.workflow_id(order_id), task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes([SearchAttributePair(STAGE, "received")])))

    async def event(self, order_id: str, event_id: str, type_: str,
                    data: dict[str, Any]) -> str:
        inp = SkeletonEventInput(event_id=event_id, type=type_,
                                 occurred_at=datetime.now(UTC), data=data)
        # Sent again while the server answers "workflow not ready", as the API does.
        return str(await self._call(update_retrying_not_ready(
            lambda: self._handle(order_id).execute_update(
                SkeletonOrderWorkflow.apply_event, inp, id=event_id,
                rpc_timeout=timedelta(seconds=self.timeout)))))

    async def receipt(self, order_id: str) -> None:
        await self.event(order_id, f"{order_id}.receipt", "receipt_returned", {
            "document": {"ref": f"receipts/{order_id}.pdf", "sha256": "a" * 64}})

    async def survey_due(self, order_id: str) -> bool:
        view = await self._call(self._handle(order_id).query(SkeletonOrderWorkflow.view))
        return view.survey == "due"
