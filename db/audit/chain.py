"""Appending links to an order's audit chain, in the transaction that inserts the rows.

The hot path of every projection (issue 13): per call, whatever the number of rows, one
statement locks (or creates) the chain's head, and one more (two on SQLite, where a statement
costs no round trip) inserts the links and moves the head. The head lock is an
upsert that updates nothing (`ON CONFLICT DO UPDATE` locks the existing row on PostgreSQL and
returns it; SQLite serializes writers anyway), so concurrent appends to one order (its
projection, an escalation's, the API) queue up instead of forking the chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db.audit import canonical
from db.audit.models import AuditHead, AuditLink
from db.personal import placeholders
from db.personal import queries as personal
from db.upsert import insert_new_returning

_HEADS: Any = AuditHead.__table__
_LINKS: Any = AuditLink.__table__


def insert_linked(session: Session, chain: str, table: Any, rows: list[dict[str, Any]]) -> int:
    """Insert `rows` into `table` (an audited table; one already stored is left as it is, as
    `insert_new`) and link those actually inserted to `chain`, in input order; returns how
    many were inserted."""
    name = table.name
    key = canonical.KEYS[name]
    # Personal data never enters a chained row (issue 17 §6): each value goes to the mutable
    # `personal_values`, a salted-hash placeholder into the row, so the content hash covers the
    # placeholder and a later redaction leaves the chain verifying.
    rows, taken = placeholders.split(chain, name, rows)
    inserted = insert_new_returning(session, table, rows, key, canonical.MEANING[name])
    if not inserted:
        return 0
    if taken:  # only the values of rows this call inserted (a retry keeps the first ones)
        new = {canonical.row_key(name, r._mapping) for r in inserted}
        personal.store(session, [v for v in taken if v.row_key in new])
    position = {tuple(row[col] for col in key): i for i, row in enumerate(rows)}
    ordered = sorted((r._mapping for r in inserted),
                     key=lambda r: position.get(tuple(r[col] for col in key), len(position)))
    append(session, chain, name, ordered)
    return len(ordered)


def append(session: Session, chain: str, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Link `rows` (as stored: their meaning columns) of `table` to the end of `chain`."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    head = session.execute(_lock_head(dialect), {"order_id": chain, "seq": 0,
                                                 "hash": canonical.GENESIS,
                                                 "sealed_seq": 0}).one()
    seq, prev = head.seq, head.hash
    now = datetime.now(UTC)
    links: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        key = canonical.row_key(table, row)
        content_hash = canonical.sha256(canonical.content(table, row))
        link = canonical.link_hash(chain, seq, table, key, content_hash, prev)
        links.append({"order_id": chain, "seq": seq, "table_name": table, "row_key": key,
                      "content_hash": content_hash, "prev_hash": prev, "hash": link,
                      "linked_at": now})
        prev = link
    if dialect == "postgresql":  # one round trip for both: this is every event's path
        session.execute(_LINK_AND_MOVE, {
            "chain": chain, "table": table, "now": now, "new_seq": seq, "new_hash": prev,
            **{col: [lk[col] for lk in links]
               for col in ("seq", "row_key", "content_hash", "prev_hash", "hash")}})
        return
    session.execute(_LINKS.insert(), links)
    session.execute(_move_head(), {"chain": chain, "new_seq": seq, "new_hash": prev})


_LINK_AND_MOVE = text("""
    WITH linked AS (
        INSERT INTO audit_links (order_id, seq, table_name, row_key, content_hash, prev_hash,
                                 hash, linked_at)
        SELECT :chain, l.seq, :table, l.row_key, l.content_hash, l.prev_hash, l.hash, :now
        FROM unnest(CAST(:seq AS integer[]), CAST(:row_key AS text[]),
                    CAST(:content_hash AS text[]), CAST(:prev_hash AS text[]),
                    CAST(:hash AS text[])) AS l(seq, row_key, content_hash, prev_hash, hash)
    )
    UPDATE audit_heads SET seq = :new_seq, hash = :new_hash WHERE order_id = :chain""")


@cache
def _lock_head(dialect: str) -> Any:
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_HEADS)
    return insert.on_conflict_do_update(
        index_elements=["order_id"], set_={"seq": _HEADS.c.seq},
    ).returning(_HEADS.c.seq, _HEADS.c.hash)


@cache
def _move_head() -> Any:
    return (update(_HEADS).where(_HEADS.c.order_id == bindparam("chain"))
            .values(seq=bindparam("new_seq"), hash=bindparam("new_hash")))
