"""Dialect-aware INSERT ... ON CONFLICT, so idempotent writes read the same on both databases."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert_newer(session: Session, table: Any, row: Mapping[str, Any], key: str,
                 update: tuple[str, ...], seq: str) -> None:
    """Insert `row`, or set its `update` columns on the row with the same `key` if `row`'s
    `seq` is higher (an older projection never overwrites a newer one). `table` is a Table
    (`Model.__table__`), not the ORM class: an ORM insert takes SQLAlchemy's bulk path.

    The statement is built once per table and dialect and run with `row` as its parameters:
    building an upsert with its values took longer than running it (profiled: a third of a
    projection's time went into SQLAlchemy constructing and caching the statement).
    """
    session.execute(_upsert_newer(session.get_bind().dialect.name, table, key, update, seq),
                    dict(row))


@cache
def _upsert_newer(dialect: str, table: Any, key: str, update: tuple[str, ...],
                  seq: str) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=[key], set_={col: insert.excluded[col] for col in update},
        where=table.c[seq] < insert.excluded[seq])


def insert_new(session: Session, table: Any, rows: list[dict[str, Any]],
               key: tuple[str, ...]) -> None:
    """Insert `rows`; one whose `key` is already stored is left as it is (append-only
    timelines, retried projections). One statement run for all rows, built once per table and
    dialect, not a VALUES list compiled for each row count."""
    if rows:
        session.execute(_insert_new(session.get_bind().dialect.name, table, key), rows)


@cache
def _insert_new(dialect: str, table: Any, key: tuple[str, ...]) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=list(key))


def insert_new_returning(session: Session, table: Any, rows: list[dict[str, Any]],
                         key: tuple[str, ...], returning: tuple[str, ...]) -> list[Any]:
    """`insert_new` that hands back the `returning` columns of the rows this call actually
    inserted, as stored (a retried projection's rows, left as they were, are not among them):
    what the audit chain links (db/audit/chain.py)."""
    if not rows:
        return []
    stmt = _insert_new_returning(session.get_bind().dialect.name, table, key, returning)
    return list(session.execute(stmt, rows))


@cache
def _insert_new_returning(dialect: str, table: Any, key: tuple[str, ...],
                          returning: tuple[str, ...]) -> Any:
    return _insert_new(dialect, table, key).returning(*(table.c[col] for col in returning))
