"""The SQL of personal values: storing those split out of chained rows, revealing placeholders
for readers (one batch lookup per read, never one per row), and what verification and
redaction read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from db.personal import placeholders
from db.personal.fields import CHAINED, REDACTED, TYPE_COLUMN
from db.personal.models import PersonalValue
from db.upsert import insert_new

_VALUES: Any = PersonalValue.__table__
RowT = TypeVar("RowT")
_BATCH = 500  # ids per lookup statement: well under any driver's parameter limit


def store(session: Session, values: Sequence[placeholders.SideValue]) -> None:
    """Insert split-out values; one already stored (a retried insert) is left as it is."""
    if not values:
        return
    now = datetime.now(UTC)
    insert_new(session, _VALUES, [
        {"id": v.id, "chain": v.chain, "table_name": v.table_name, "row_key": v.row_key,
         "path": v.path, "value": v.value, "salt": v.salt, "created_at": now,
         "redacted_at": None} for v in values], ("id",))


def kept_values(session: Session, ids: Iterable[str]) -> dict[str, Any]:
    """value id -> value, for the ids whose value is still kept (not redacted)."""
    wanted = sorted(set(ids))
    out: dict[str, Any] = {}
    for start in range(0, len(wanted), _BATCH):
        out.update((vid, value) for vid, value in session.execute(
            select(PersonalValue.id, PersonalValue.value)
            .where(PersonalValue.id.in_(wanted[start:start + _BATCH]),
                   PersonalValue.redacted_at.is_(None))))
    return out


def _columns(table: str, obj: Any) -> dict[str, Any]:
    """The columns of a chained ORM row the inventory reads: its type column and the first step
    of each personal path."""
    cols = {TYPE_COLUMN[table]}
    cols.update(p.split(".")[0] for paths in CHAINED.get(table, {}).values() for p in paths)
    return {col: getattr(obj, col) for col in cols}


def reveal(session: Session, table: str, rows: Sequence[RowT]) -> list[RowT]:
    """Show `rows` (ORM rows of a chained table, just read) with their placeholders replaced by
    the values, a redacted one as REDACTED; returns `rows`. A row with a placeholder is
    detached from the session first, so what it shows can never be written back, and a later
    read in the same session (the audit verification) gets the stored row again."""
    mapped = [(row, _columns(table, row)) for row in rows]
    ids = [vid for _, m in mapped for _, vid, _ in placeholders.placeholders_in(table, m)]
    if not ids:
        return list(rows)
    values = kept_values(session, ids)
    for row, mapping in mapped:
        shown = placeholders.revealed(table, mapping, values, REDACTED)
        if shown is None:
            continue
        if row in session:
            session.expunge(row)
        for col, value in shown.items():
            set_committed_value(row, col, value)
    return list(rows)


def side_rows(session: Session, ids: Iterable[str]) -> dict[str, PersonalValue]:
    wanted = sorted(set(ids))
    out: dict[str, PersonalValue] = {}
    for start in range(0, len(wanted), _BATCH):
        for row in session.scalars(select(PersonalValue)
                                   .where(PersonalValue.id.in_(wanted[start:start + _BATCH]))):
            out[row.id] = row
    return out

