"""The gauges read from the database at scrape time: what they count, their cache, an outage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from sqlalchemy import update

from db.engine import make_engine, session_factory, transaction
from db.notifications.models import OutboxRow
from db.notifications.outbox import enqueue
from observability.database import DatabaseCollector
from tests.support.metrics_scrape import Samples, value
from tests.support.outbox import delay_risk


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def scrape(collector: DatabaseCollector) -> Samples:
    registry = CollectorRegistry()
    registry.register(collector)
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in registry.collect() for s in family.samples}


def test_outbox_rows_are_counted_and_reread_only_after_the_cache(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    clock = Clock()
    collector = DatabaseCollector(sessions, cache_seconds=10, clock=clock)
    try:
        first = scrape(collector)
        assert value(first, "waybill_metrics_database_up") == 1
        assert value(first, "waybill_outbox_rows", channel="email", status="pending") == 0

        with transaction(sessions) as session:
            enqueue(session, [delay_risk()])
        assert value(scrape(collector), "waybill_outbox_rows", channel="email",
                     status="pending") == 0  # the cached counts, no query per scrape
        clock.now = 10
        later = scrape(collector)
        assert value(later, "waybill_outbox_rows", channel="email", status="pending") == 1
        assert value(later, "waybill_outbox_oldest_age_seconds", channel="email",
                     status="pending") >= 0
    finally:
        engine.dispose()


def test_a_row_is_overdue_once_its_attempt_is_due_not_while_it_backs_off(
        sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)
    collector = DatabaseCollector(sessions, cache_seconds=0)
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    try:
        with transaction(sessions) as session:
            enqueue(session, [delay_risk()])
            session.execute(update(OutboxRow).values(created_at=hour_ago, next_attempt_at=None))
        overdue = value(scrape(collector), "waybill_outbox_overdue_seconds", channel="email")
        assert 3600 <= overdue < 3700
        with transaction(sessions) as session:  # a retry is due in an hour: waiting, not late
            session.execute(update(OutboxRow).values(
                next_attempt_at=datetime.now(UTC) + timedelta(hours=1)))
        samples = scrape(collector)
        assert value(samples, "waybill_outbox_overdue_seconds", channel="email") == 0
        assert value(samples, "waybill_outbox_oldest_age_seconds", channel="email",
                     status="pending") >= 3600
    finally:
        engine.dispose()


def test_a_database_outage_leaves_the_scrape_working() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    engine = make_engine("postgresql+psycopg2://waybill:x@127.0.0.1:1/waybill")
    try:
        samples = scrape(DatabaseCollector(session_factory(engine), cache_seconds=0))
    finally:
        engine.dispose()
    assert samples == {("waybill_metrics_database_up", frozenset()): 0}
