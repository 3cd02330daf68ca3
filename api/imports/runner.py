"""The background half of an import, run by the worker's import activities: a batch of the file's
orders checked by the API's model and created through the API's own service (service.create:
the same row, opening state, workflow start and idempotency as POST /v1/orders), each order's
outcome recorded as it goes so the import page's progress moves while a batch runs.

A retried batch skips the orders already recorded; an order created by an attempt that died
before recording it is found again by service.create as the same body, i.e. `duplicate`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.deps import Principal
from api.edge.units import Db
from api.errors import ApiError
from api.imports.parse import read_sheet
from api.imports.rows import Draft, Refusal, checked, group
from api.keys import scope as key_scope
from api.orders import service
from api.permissions import Role
from archive import Archive
from config import Settings
from db.imports import queries as repo
from db.imports.models import OrderImport
from db.keys.queries import Scope
from workflows.imports.types import ImportBatchResult

log = logging.getLogger("waybill.imports")

# Orders recorded together: small enough for the progress bar to move every second or so.
RECORD_EVERY = 20
_CACHED_FILES = 2


class ImportRunner:
    def __init__(self, db: Db, client: Client, settings: Settings, archive: Archive) -> None:
        self._db, self._client, self._settings, self._archive = db, client, settings, archive
        # The parsed orders of the files being imported (each batch would otherwise read the
        # whole file again); keyed by sha256, the few most recent only.
        self._drafts: OrderedDict[str, list[Draft]] = OrderedDict()

    async def import_batch(self, import_id: str, start: int, stop: int,
                           heartbeat: Callable[[int], None]) -> ImportBatchResult:
        row = await self._db.run(_start, import_id)
        drafts = (await self._drafts_of(row))[start:stop]
        done = await self._db.run(repo.done_seqs, import_id, start, stop)
        who = Principal(name=row.created_by, role=Role(row.created_by_role),
                        scope=Scope(customers=tuple(row.scope_customers)
                                    if row.scope_customers is not None else None))
        zone = ZoneInfo(self._settings.business_timezone)
        gate = asyncio.Semaphore(self._settings.import_concurrency)
        result = ImportBatchResult()

        async def one(seq: int, draft: Draft) -> dict[str, Any]:
            async with gate:
                return await self._import_one(seq, draft, who, zone)

        todo = [(start + i, d) for i, d in enumerate(drafts) if start + i not in done]
        for at in range(0, len(todo), RECORD_EVERY):
            chunk = todo[at:at + RECORD_EVERY]
            answers = await asyncio.gather(*(one(seq, d) for seq, d in chunk),
                                           return_exceptions=True)
            outcomes = [a for a in answers if isinstance(a, dict)]
            # What was decided is kept even when another order of the chunk hit an outage, so
            # the retry does not report an order this attempt created as a duplicate.
            await self._db.run(repo.record_outcomes, import_id, outcomes)
            for answer in answers:
                if isinstance(answer, BaseException):
                    raise answer
            for o in outcomes:
                setattr(result, _COUNTER[o["outcome"]],
                        getattr(result, _COUNTER[o["outcome"]]) + 1)
            heartbeat(chunk[-1][0])
        return result

    async def _import_one(self, seq: int, draft: Draft, who: Principal,
                          zone: ZoneInfo) -> dict[str, Any]:
        base = {"seq": seq, "row": draft.first_row, "order_id": draft.order_id[:64]}
        order = checked(draft, zone)
        if isinstance(order, Refusal):
            return {**base, **_refused(order.code, order.message, order.details)}
        try:
            key_scope.check_customer(who, order.customer.id)
            _, created = await service.create(self._db, self._client, self._settings, order,
                                              who)
        except ApiError as exc:
            if exc.status >= 500:
                raise  # Temporal or the database away: the batch is retried, not refused
            return {**base, **_refused(exc.code, exc.message,
                                       {"row": draft.first_row, **_small(exc.details)})}
        return {**base, "outcome": "created" if created else "duplicate", "code": None,
                "message": None, "details": None}

    async def _drafts_of(self, row: OrderImport) -> list[Draft]:
        drafts = self._drafts.get(row.sha256)
        if drafts is None:
            data = await run_in_threadpool(self._archive.get, row.sha256)
            sheet = await run_in_threadpool(read_sheet, data, self._settings.import_max_rows)
            drafts = group(sheet.rows)
            self._drafts[row.sha256] = drafts
            while len(self._drafts) > _CACHED_FILES:
                self._drafts.popitem(last=False)
        self._drafts.move_to_end(row.sha256)
        return drafts

    async def finish(self, import_id: str, failed: bool, error: str | None) -> None:
        await self._db.run(repo.mark, import_id, "failed" if failed else "done",
                           (error or "")[:500] if failed else None)
        row = await self._db.run(_load, import_id)
        log.info("import finished", extra={
            "import_id": import_id, "status": row.status, "created": row.created,
            "duplicates": row.duplicates, "refused": row.refused})


_COUNTER = {"created": "created", "duplicate": "duplicates", "refused": "refused"}


def _refused(code: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {"outcome": "refused", "code": code, "message": message[:1000], "details": details}


def _small(details: dict[str, Any]) -> dict[str, Any]:
    """An API error's details as far as the report needs them: scalars only (no lists of
    known policies, no values the file held)."""
    return {k: v for k, v in details.items()
            if isinstance(v, str | int | float | bool) and len(str(v)) <= 200}


def _load(session: Session, import_id: str) -> OrderImport:
    row = repo.get(session, import_id)
    if row is None:
        raise LookupError(f"no import {import_id}")
    return row


def _start(session: Session, import_id: str) -> OrderImport:
    repo.mark(session, import_id, "running")
    return _load(session, import_id)
