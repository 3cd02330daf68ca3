"""What the API and the console do with imports: take a file, read an import, its report.

Taking a file checks all of it first (format, encoding, headers, bounds: api/imports/parse.py),
stores it in the archive, records the import, and only after that commit starts the import
workflow, which creates the orders in the background (api/imports/runner.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError

from api.deps import Principal
from api.edge.deadline import temporal_deadline
from api.edge.units import Db
from api.errors import ApiError, found
from api.imports.parse import read_sheet
from api.imports.report import report_csv
from api.imports.rows import group
from api.imports.schemas import ImportView
from api.imports.upload import ImportFile
from archive import Archive, ArchiveError
from config import Settings
from db.imports import queries as repo
from db.imports.models import OrderImport
from workflows.ids import import_workflow_id
from workflows.imports.types import OrderImportInput
from workflows.imports.workflow import OrderImportWorkflow

log = logging.getLogger("waybill.imports")


def view(row: OrderImport) -> ImportView:
    total = row.total_orders
    return ImportView(
        import_id=row.import_id, status=row.status, filename=row.filename, format=row.format,
        sha256=row.sha256, total_rows=row.total_rows, total_orders=total,
        processed=row.processed, progress=round(row.processed / total, 4) if total else 1.0,
        created=row.created, duplicates=row.duplicates, refused=row.refused, error=row.error,
        created_by=row.created_by, created_at=row.created_at, started_at=row.started_at,
        finished_at=row.finished_at,
        report_url=f"/v1/orders/imports/{row.import_id}/report.csv")


def load(session: Session, import_id: str) -> OrderImport:
    return found(repo.get(session, import_id), "import", "import_id", import_id)


def view_of(session: Session, import_id: str) -> ImportView:
    return view(load(session, import_id))


def recent(session: Session, limit: int = 20) -> list[ImportView]:
    return [view(r) for r in repo.recent(session, limit)]


def report_of(session: Session, import_id: str, lang: str) -> bytes:
    load(session, import_id)
    return report_csv(repo.outcomes(session, import_id), lang)


async def start(db: Db, client: Client, settings: Settings, archive: Archive,
                upload: ImportFile, who: Principal) -> ImportView:
    """Check the whole file, archive it, record the import, start its workflow."""
    sheet = await run_in_threadpool(read_sheet, upload.data, settings.import_max_rows)
    drafts = group(sheet.rows)
    try:
        sha256 = await run_in_threadpool(archive.put, upload.data)
    except ArchiveError as exc:
        log.error("archive put failed", extra={"error": str(exc)})
        raise ApiError(503, "archive_unavailable", "the document archive did not take the file",
                       headers={"Retry-After": str(settings.retry_after_seconds)}) from None
    row = OrderImport(
        import_id="imp-" + uuid.uuid4().hex, created_by=who.name,
        created_by_role=who.role.value,
        scope_customers=list(who.scope.customers) if who.scope.customers is not None else None,
        filename=upload.filename, sha256=sha256, format=sheet.format, size=len(upload.data),
        status="queued", total_rows=len(sheet.rows), total_orders=len(drafts), processed=0,
        created=0, duplicates=0, refused=0, created_at=datetime.now(UTC))
    await db.run(repo.add, row)  # committed before the workflow starts
    try:
        async with temporal_deadline(settings):
            await client.start_workflow(
                OrderImportWorkflow.run,
                OrderImportInput(import_id=row.import_id, total=len(drafts),
                                 batch_size=settings.import_batch_size),
                id=import_workflow_id(row.import_id), task_queue=settings.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except (ApiError, RPCError) as exc:
        # Not started: the import says so (a new upload of the same file is the retry).
        await db.run(repo.mark, row.import_id, "failed", "the workflow service did not answer")
        if isinstance(exc, ApiError):
            raise
        raise ApiError(503, "temporal_unavailable", "the workflow service did not answer",
                       headers={"Retry-After": str(settings.retry_after_seconds)}) from None
    log.info("import started", extra={"import_id": row.import_id, "orders": len(drafts),
                                      "rows": len(sheet.rows), "format": sheet.format})
    return await db.run(view_of, row.import_id)
