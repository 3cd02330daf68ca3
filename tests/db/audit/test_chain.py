"""The audit chain on both engines: every audited insert path links its rows once, in the same
transaction; verification names the first row or link someone edited, deleted, inserted around
the chain or rewrote; checkpoints catch a chain rewritten whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from db.audit import verify as v
from db.audit.models import AuditHead, AuditLink
from db.audit.queries import chains, export, seal, verify
from db.claims.queries import apply_claim_projection
from db.complaints.queries import add_entries
from db.documents import queries as documents
from db.orders.models import OrderEvent
from db.orders.queries import add_timeline_entries
from db.upsert import insert_new
from tests.support import kpi_fixtures as fx
from workflows.claim.types import ClaimCause, ClaimProjection, ClaimTimelineEntry
from workflows.complaint.types import ComplaintEntry
from workflows.escalation.types import EscalationAction
from workflows.order.types import BreachKind, Stage, TimelineEntry

KEY = b"k" * 32
KEYS = {"k1": KEY}
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def _entry(event_id: str, minutes: int, text_: str = "note") -> TimelineEntry:
    at = T0 + timedelta(minutes=minutes, microseconds=123)
    return TimelineEntry(event_id=event_id, type="note", occurred_at=at, recorded_at=at,
                         actor="desk", source="console", data={"text": text_})


def _seed(session: Session) -> None:
    """An order with its timeline, an escalation, a claim, a complaint and a document."""
    fx.order(session, "O1", "C-A", "11-06T00:00",
             {"received": "11-02T01:00", "confirmed": "11-02T03:00"})
    add_timeline_entries(session, "O1", [_entry("n1", 5, "客户来电"), _entry("n2", 6)])
    fx.escalation(session, "E1", "O1", "C-A", BreachKind.DELIVERY_LATE, Stage.CONFIRMED,
                  "11-02T04:00", [("11-02T04:00", EscalationAction.OPENED, 1),
                                  ("11-02T05:00", EscalationAction.CLIMBED, 2)])
    fx.claim(session, "O1-CL1", "O1", "C-A", ClaimCause.DAMAGED, "11-03T01:00")
    status = _claim_status(session)
    apply_claim_projection(session, ClaimProjection(status=status, entries=[
        ClaimTimelineEntry(seq=1, event_id="c1", type="opened", at=T0, occurred_at=T0,
                           actor="desk", source="api", data={"amount": 1.5})]))
    fx.complaint(session, "O1-CP1", "O1", "C-A", "11-03T02:00")
    add_entries(session, "O1-CP1", "O1", [ComplaintEntry(
        event_id="p1", type="opened", occurred_at=T0, recorded_at=T0, actor="desk",
        source="api", data={})])
    documents.record(session, "ab" * 32, "application/pdf", 10, "desk", "O1")


def _claim_status(session: Session) -> Any:
    from workflows.claim.types import ClaimState, ClaimStatus, ClaimStep
    from workflows.order.types import Customer
    return ClaimStatus(claim_id="O1-CL1", order_id="O1",
                       customer=Customer(id="C-A", name="C-A", tier=fx.CUSTOMERS["C-A"]),
                       cause=ClaimCause.DAMAGED, origin="delivery", description="",
                       opened_at=T0, opened_by="waybill", state=ClaimState.OPEN,
                       step=ClaimStep.OPENED, seq=2)


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        _seed(session)
    return sessions


def _verdict(sessions: sessionmaker[Session], chain: str = "O1") -> v.Verdict:
    with sessions() as session:
        return verify(session, chain, KEYS)


@pytest.fixture
def tamper(seeded: sessionmaker[Session]) -> Iterator[Any]:
    """Run SQL as someone with direct database access would, past the append-only triggers
    (a superuser's replica role skips them on PostgreSQL)."""
    def run(sql: str, **params: Any) -> None:
        with seeded.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SET LOCAL session_replication_role = replica"))
            session.execute(text(sql), params)
    yield run


def test_every_audited_insert_path_links_its_rows_once(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:  # a retried projection: nothing new, nothing linked
        add_timeline_entries(session, "O1", [_entry("n1", 5, "客户来电")])
        assert not documents.record(session, "ab" * 32, "application/pdf", 10, "desk", "O2")
    with seeded() as session:
        links = list(session.scalars(select(AuditLink).where(AuditLink.order_id == "O1")
                                     .order_by(AuditLink.seq)))
        assert [lk.seq for lk in links] == list(range(1, len(links) + 1))
        assert [lk.table_name for lk in links] == [
            "order_events", "order_events", "order_events", "escalation_events",
            "escalation_events", "claim_events", "complaint_events", "documents"]
        head = session.get(AuditHead, "O1")
        assert head is not None and (head.seq, head.hash) == (links[-1].seq, links[-1].hash)
        assert session.scalar(select(func.count()).select_from(AuditLink)
                              .where(AuditLink.order_id == "O2")) == 0
    verdict = _verdict(seeded)
    assert verdict.ok and verdict.links_checked == 8


@pytest.mark.parametrize(("sql", "problem", "seq"), [
    ("UPDATE order_events SET data = '{\"text\": \"changed\"}' WHERE event_id = 'n2'",
     v.ROW_EDITED, 3),
    ("DELETE FROM escalation_events WHERE escalation_id = 'E1' AND seq = 2", v.ROW_DELETED, 5),
    ("UPDATE claim_events SET actor = 'someone else'", v.ROW_EDITED, 6),
    ("DELETE FROM complaint_events", v.ROW_DELETED, 7),
    ("UPDATE documents SET created_by = 'x'", v.ROW_EDITED, 8),
    ("DELETE FROM audit_links WHERE order_id = 'O1' AND seq = 4", v.LINK_MISSING, 4),
    ("UPDATE audit_links SET content_hash = 'ff' WHERE order_id = 'O1' AND seq = 2",
     v.LINK_EDITED, 2),
    ("UPDATE audit_links SET seq = 100 - seq WHERE order_id = 'O1' AND seq IN (2, 3)",
     v.LINK_MISSING, 2),
    ("DELETE FROM audit_links WHERE order_id = 'O1' AND seq = 8", v.HEAD_MISMATCH, 8),
])
def test_verify_names_the_first_row_or_link_changed(
        seeded: sessionmaker[Session], tamper: Any, sql: str, problem: str, seq: int) -> None:
    tamper(sql)
    verdict = _verdict(seeded)
    assert not verdict.ok and verdict.first_broken is not None
    assert (verdict.first_broken.problem, verdict.first_broken.seq) == (problem, seq), \
        verdict.first_broken


def test_a_row_inserted_around_the_chain_is_named(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        insert_new(session, OrderEvent.__table__, [{
            "order_id": "O1", "event_id": "sneaky", "type": "note", "occurred_at": T0,
            "recorded_at": T0, "actor": "x", "source": "x", "data": {}, "body_hash": None}],
            ("order_id", "event_id"))
    broken = _verdict(seeded).first_broken
    assert broken is not None and broken.problem == v.ROW_UNLINKED
    assert broken.key == '["O1","sneaky"]'


def test_a_chain_rewritten_whole_breaks_its_signed_checkpoint(
        seeded: sessionmaker[Session], tamper: Any) -> None:
    with seeded.begin() as session:
        sealed = seal(session, KEY, "k1", limit=100)
    assert sealed is not None and sealed.heads == 1
    with seeded.begin() as session:
        assert seal(session, KEY, "k1", limit=100) is None  # nothing moved since
    assert _verdict(seeded).ok
    # Edit a row, then recompute the link hashes and the head as a careful forger would.
    tamper("UPDATE order_events SET actor = 'forged' WHERE event_id = 'n1'")
    _relink(seeded, "O1")
    broken = _verdict(seeded).first_broken
    assert broken is not None and broken.problem == v.CHECKPOINT_MISMATCH
    # A signature that no longer verifies, and a key nobody configured.
    tamper("UPDATE audit_checkpoint_heads SET hash = 'aa'")
    broken = _verdict(seeded).first_broken
    assert broken is not None and broken.problem == v.CHECKPOINT_SIGNATURE
    with seeded() as session:
        assert verify(session, "O1", {}).first_broken.problem == v.CHECKPOINT_KEY_UNKNOWN  # type: ignore[union-attr]


def _relink(sessions: sessionmaker[Session], chain: str) -> None:
    """Recompute every link of `chain` from the rows as they are now."""
    from db.audit import canonical
    from db.audit.queries import chain_rows, links_of
    with sessions.begin() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        links = links_of(session, chain)
        contents = chain_rows(session, chain, links)
        prev = canonical.GENESIS
        for lk in links:
            content_hash = canonical.sha256(contents[(lk.table_name, lk.row_key)])
            new = canonical.link_hash(chain, lk.seq, lk.table_name, lk.row_key, content_hash,
                                      prev)
            session.execute(text("UPDATE audit_links SET content_hash = :c, prev_hash = :p, "
                                 "hash = :h WHERE order_id = :o AND seq = :s"),
                            {"c": content_hash, "p": prev, "h": new, "o": chain, "s": lk.seq})
            prev = new
        session.execute(text("UPDATE audit_heads SET hash = :h WHERE order_id = :o"),
                        {"h": prev, "o": chain})


def test_export_carries_each_links_content_and_all_chains_are_listed(
        seeded: sessionmaker[Session]) -> None:
    from db.audit import canonical
    with seeded() as session:
        lines = list(export(session, "O1"))
        assert "O1" in chains(session)
    assert len(lines) == 8
    assert all(canonical.sha256(ln["content"]) == ln["content_hash"] for ln in lines)
    # The note's text is personal data (issue 17 §6): the chained row holds its placeholder.
    assert '"text":"$personal:' in lines[1]["content"] and ".000123Z" in lines[1]["content"]
    assert "客户来电" not in lines[1]["content"]


def test_the_application_may_not_update_or_delete_chained_rows_on_postgresql(
        pg_url: str) -> None:
    from sqlalchemy.exc import DBAPIError

    from db.engine import make_engine, session_factory
    engine = make_engine(pg_url)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            _seed(session)
        for table in ("order_events", "escalation_events", "claim_events",
                      "complaint_events", "documents", "audit_links"):
            for sql in (f"UPDATE {table} SET {'order_id' if table == 'audit_links' else 'actor' if table != 'documents' else 'created_by'} = 'x'",  # noqa: E501
                        f"DELETE FROM {table}"):
                with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
                    s.execute(text(sql))
        with sessions.begin() as session:
            seal(session, KEY, "k1", limit=10)
        for sql in ("UPDATE audit_checkpoints SET key_id = 'x'",
                    "DELETE FROM audit_checkpoint_heads", "TRUNCATE order_events"):
            with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as s:
                s.execute(text(sql))
        with sessions() as session:
            assert verify(session, "O1", KEYS).ok
    finally:
        engine.dispose()


def test_concurrent_appends_to_one_order_keep_one_gapless_chain(
        seeded: sessionmaker[Session]) -> None:
    """The order's projection, an escalation's and the API append at once: the head lock
    queues them, so no two links share a seq or a predecessor."""
    from concurrent.futures import ThreadPoolExecutor

    def append(worker: int) -> None:
        for i in range(10):
            with seeded.begin() as session:
                add_timeline_entries(session, "O1", [_entry(f"w{worker}-{i}", 100 + i)])

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(4)))
    verdict = _verdict(seeded)
    assert verdict.ok and verdict.links_checked == 8 + 40


def test_the_migration_links_the_rows_stored_before_it(db_url: str) -> None:
    from alembic import command

    from db.engine import make_engine, session_factory
    from db.migrate import alembic_config
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0015")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for i in (1, 2):
                conn.execute(text(
                    "INSERT INTO order_events (order_id, event_id, type, occurred_at, "
                    "recorded_at, actor, source, data) VALUES ('OLD-1', :e, 'note', :t, :t, "
                    "'desk', 'console', :d)"), {"e": f"e{i}", "t": T0, "d": '{"text": "旧"}'})
            conn.execute(text(
                "INSERT INTO documents (sha256, content_type, size, created_at, created_by) "
                "VALUES (:s, 'application/pdf', 3, :t, 'desk')"), {"s": "cd" * 32, "t": T0})
        command.upgrade(cfg, "head")
        sessions = session_factory(engine)
        for chain, links in (("OLD-1", 2), ("archive", 1)):
            verdict = _verdict(sessions, chain)
            assert verdict.ok and verdict.links_checked == links, verdict
    finally:
        engine.dispose()
