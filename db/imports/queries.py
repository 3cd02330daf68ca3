"""Queries on bulk imports: the import's row, its orders' outcomes, its progress counts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.imports.models import OrderImport, OrderImportRow

OUTCOMES = ("created", "duplicate", "refused")


def add(session: Session, row: OrderImport) -> None:
    session.add(row)
    session.flush()


def get(session: Session, import_id: str) -> OrderImport | None:
    return session.get(OrderImport, import_id)


def recent(session: Session, limit: int, created_by: str | None = None
           ) -> Sequence[OrderImport]:
    query = select(OrderImport).order_by(OrderImport.created_at.desc(),
                                         OrderImport.import_id.desc()).limit(limit)
    if created_by is not None:
        query = query.where(OrderImport.created_by == created_by)
    return session.scalars(query).all()


def done_seqs(session: Session, import_id: str, start: int, stop: int) -> set[int]:
    """The orders in [start, stop) that already have an outcome (a retried batch skips them,
    so an order its first attempt created is not reported again as a duplicate)."""
    return set(session.scalars(select(OrderImportRow.seq).where(
        OrderImportRow.import_id == import_id, OrderImportRow.seq >= start,
        OrderImportRow.seq < stop)))


def record_outcomes(session: Session, import_id: str, outcomes: Iterable[dict[str, Any]]) -> None:
    """Store orders' outcomes (seq, row, order_id, outcome, code, message, details) and
    recount the import's progress from them, so a retry never counts an order twice."""
    rows = [OrderImportRow(import_id=import_id, **o) for o in outcomes]
    if rows:
        known = done_seqs(session, import_id, min(r.seq for r in rows),
                          max(r.seq for r in rows) + 1)
        session.add_all([r for r in rows if r.seq not in known])
        session.flush()
    counts = dict(session.execute(
        select(OrderImportRow.outcome, func.count()).where(
            OrderImportRow.import_id == import_id).group_by(OrderImportRow.outcome)).all())
    session.execute(update(OrderImport).where(OrderImport.import_id == import_id).values(
        created=counts.get("created", 0), duplicates=counts.get("duplicate", 0),
        refused=counts.get("refused", 0), processed=sum(counts.values())))


def mark(session: Session, import_id: str, status: str, error: str | None = None) -> None:
    """Move the import to `status` (running, done, failed), stamping its start or finish."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {"status": status}
    if status == "running":
        values["started_at"] = func.coalesce(OrderImport.started_at, now)
    if status in ("done", "failed"):
        values["finished_at"] = now
        values["error"] = error
    session.execute(update(OrderImport).where(OrderImport.import_id == import_id)
                    .values(**values))


def outcomes(session: Session, import_id: str) -> Sequence[OrderImportRow]:
    return session.scalars(select(OrderImportRow).where(
        OrderImportRow.import_id == import_id).order_by(OrderImportRow.seq)).all()
