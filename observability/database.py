"""Gauges read at scrape time: the database's counts (cached) and the engine's pool.

Both are prometheus_client collectors, called by the metrics endpoint's own thread, so their
SQL never runs on an event loop nor per request; the counts are reused for
`metrics_cache_seconds`, so a scrape every few seconds still costs one query set per period.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.metrics import queries
from observability.metrics import DB_POOL_TIMEOUTS

log = logging.getLogger("waybill.metrics")

# Outbox rows still on their way; the age of the oldest of them is the backlog's age.
IN_FLIGHT = ("pending", "sending")
OPEN = "open"  # an escalation's state until it is resolved

# The names as scraped, for deploy/'s check (observability/metrics.py COUNTED for the rest).
GAUGED = ("waybill_orders", "waybill_breaches_total", "waybill_breaches_open",
          "waybill_escalations_open", "waybill_outbox_rows", "waybill_outbox_oldest_age_seconds",
          "waybill_outbox_overdue_seconds",
          "waybill_metrics_database_up", "waybill_db_pool_size", "waybill_db_pool_checked_out",
          "waybill_db_pool_overflow")


@dataclass(frozen=True)
class Snapshot:
    orders: dict[str, int]
    escalations: list[queries.EscalationCount]
    outbox: list[queries.OutboxCount]
    overdue_since: dict[str, datetime]
    taken_at: datetime


def read(session: Session) -> Snapshot:
    now = datetime.now(UTC)
    return Snapshot(queries.orders_by_stage(session), queries.escalations(session),
                    queries.outbox(session), queries.outbox_overdue_since(session, now), now)


class DatabaseCollector(Collector):
    """Orders by stage, breaches, open escalations by level, outbox rows by status and age."""

    def __init__(self, sessions: sessionmaker[Session], cache_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()  # two scrapes at once run the queries once
        self._snapshot: Snapshot | None = None
        self._read_at = float("-inf")
        self._up = False

    def snapshot(self) -> Snapshot | None:
        with self._lock:
            if self._clock() - self._read_at >= self._cache_seconds:
                self._read_at = self._clock()
                try:
                    with transaction(self._sessions) as session:
                        self._snapshot = read(session)
                    self._up = True
                except Exception:  # an outage must not break the scrape of the other metrics
                    log.warning("metrics: database counts unavailable", exc_info=True)
                    self._snapshot, self._up = None, False
            return self._snapshot

    def collect(self) -> Iterator[Any]:
        snap = self.snapshot()
        up = GaugeMetricFamily("waybill_metrics_database_up",
                               "1 if the last read of the database's counts succeeded")
        up.add_metric([], 1 if self._up else 0)
        yield up
        if snap is None:
            return
        yield from _families(snap)


def _families(snap: Snapshot) -> Iterator[Any]:
    orders = GaugeMetricFamily("waybill_orders", "Orders by stage", labels=["stage"])
    for stage, count in sorted(snap.orders.items()):
        orders.add_metric([stage], count)
    yield orders

    breaches: dict[str, int] = {}
    open_breaches: dict[str, int] = {}
    by_level: dict[str, int] = {}
    for esc in snap.escalations:
        breaches[esc.kind] = breaches.get(esc.kind, 0) + esc.count
        if esc.state == OPEN:
            open_breaches[esc.kind] = open_breaches.get(esc.kind, 0) + esc.count
            level = str(esc.level)
            by_level[level] = by_level.get(level, 0) + esc.count
    # Every breach opens an escalation and escalations are never deleted: their number only
    # grows, so it is a counter (rate() of it is the breach rate).
    total = CounterMetricFamily("waybill_breaches", "SLA breaches recorded, by deadline kind",
                                labels=["kind"])
    for kind, count in sorted(breaches.items()):
        total.add_metric([kind], count)
    yield total
    opened = GaugeMetricFamily("waybill_breaches_open",
                               "Breaches whose escalation is not resolved, by deadline kind",
                               labels=["kind"])
    for kind, count in sorted(open_breaches.items()):
        opened.add_metric([kind], count)
    yield opened
    levels = GaugeMetricFamily("waybill_escalations_open", "Open escalations by ladder level",
                               labels=["level"])
    for level, count in sorted(by_level.items()):
        levels.add_metric([level], count)
    yield levels

    rows = GaugeMetricFamily("waybill_outbox_rows", "Outbox rows by channel and status",
                             labels=["channel", "status"])
    age = GaugeMetricFamily(
        "waybill_outbox_oldest_age_seconds",
        "Age of the oldest outbox row still pending or being sent, by channel and status",
        labels=["channel", "status"])
    for row in snap.outbox:
        rows.add_metric([row.channel, row.status], row.count)
        if row.status in IN_FLIGHT and row.oldest_created_at is not None:
            age.add_metric([row.channel, row.status],
                           max(0.0, (snap.taken_at - row.oldest_created_at).total_seconds()))
    yield rows
    yield age
    overdue = GaugeMetricFamily(
        "waybill_outbox_overdue_seconds",
        "How long the longest-waiting outbox row has been due for a delivery attempt and not "
        "had one, by channel (0: none is overdue)", labels=["channel"])
    for channel in sorted({row.channel for row in snap.outbox} | set(snap.overdue_since)):
        since = snap.overdue_since.get(channel)
        overdue.add_metric([channel], 0.0 if since is None
                           else max(0.0, (snap.taken_at - since).total_seconds()))
    yield overdue


class PoolCollector(Collector):
    """The engine's connection pool now: its size, connections in use, overflow in use."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Any]:
        pool: Any = self._engine.pool  # QueuePool; other pools lack some of these numbers
        for name, doc, read_ in (
                ("waybill_db_pool_size", "Connections the pool keeps", "size"),
                ("waybill_db_pool_checked_out", "Connections in use now", "checkedout"),
                ("waybill_db_pool_overflow", "Connections open beyond the pool's size",
                 "overflow")):
            fn = getattr(pool, read_, None)
            if fn is not None:
                family = GaugeMetricFamily(name, doc)
                family.add_metric([], max(0, fn()))
                yield family


def count_pool_timeouts(engine: Engine) -> None:
    """Count every checkout that times out (`waybill_db_pool_timeouts_total`).

    SQLAlchemy has no pool event for a timeout, so the pool's own checkout is wrapped (on this
    engine's pool only; a pool recreated by `dispose()` is not wrapped, which happens only at
    shutdown).
    """
    pool: Any = engine.pool
    checkout = pool._do_get

    def counted() -> Any:
        try:
            return checkout()
        except PoolTimeout:
            DB_POOL_TIMEOUTS.inc()
            raise

    pool._do_get = counted
