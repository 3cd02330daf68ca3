"""The gauges read from the database at scrape time: what they count, their cache, an outage."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from db.engine import make_engine, session_factory, transaction
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


def test_a_database_outage_leaves_the_scrape_working() -> None:
    # Nothing listens on port 1: the connection is refused at once.
    engine = make_engine("postgresql+psycopg2://waybill:x@127.0.0.1:1/waybill")
    try:
        samples = scrape(DatabaseCollector(session_factory(engine), cache_seconds=0))
    finally:
        engine.dispose()
    assert samples == {("waybill_metrics_database_up", frozenset()): 0}
