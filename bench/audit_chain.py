"""What the audit chain (issue 17 §3) adds to a projection, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.audit_chain            # SQLite file + a throwaway durable server
    .venv/bin/python -m bench.audit_chain --n 2000

Two shapes, each run with the chain and without it (the same inserts through `insert_new`,
no link), interleaved so both see the same machine:
* `new order`: a whole projection of a new order (its row, its created entry: the chain's head
  is created);
* `next entry`: one more timeline entry of an existing order in its own transaction (the head
  is locked and moved), the hot path of every event.
Prints the median and mean milliseconds per transaction and the difference.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

import db.orders.queries as order_queries
from db.audit.chain import insert_linked
from db.engine import make_engine, session_factory
from db.migrate import upgrade
from db.upsert import insert_new
from tests.support import kpi_fixtures as fx
from tests.support.pg import throwaway_postgres
from workflows.order.types import TimelineEntry

T0 = datetime(2026, 11, 2, 1, tzinfo=UTC)


def _unchained(session: Session, chain: str, table: Any, rows: list[dict[str, Any]]) -> int:
    insert_new(session, table, rows, ("order_id", "event_id"))
    return len(rows)


@contextmanager
def chained(on: bool) -> Iterator[None]:
    order_queries.insert_linked = insert_linked if on else _unchained  # type: ignore[assignment]
    try:
        yield
    finally:
        order_queries.insert_linked = insert_linked  # type: ignore[assignment]


def _timed(sessions: sessionmaker[Session], work: Callable[[Session], None]) -> float:
    start = time.perf_counter()
    with sessions.begin() as session:
        work(session)
    return (time.perf_counter() - start) * 1000


def measure(url: str, n: int) -> dict[str, dict[bool, list[float]]]:
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    out: dict[str, dict[bool, list[float]]] = {"new order": {True: [], False: []},
                                               "next entry": {True: [], False: []}}
    for on in (True, False):  # one order each to append to
        with sessions.begin() as session, chained(on):
            fx.order(session, f"BASE-{on}", "C-A", "11-06T00:00", {"received": "11-02T01:00"})
    for i in range(n):
        for on in ((True, False) if i % 2 else (False, True)):
            with chained(on):
                out["new order"][on].append(_timed(sessions, lambda s, i=i, on=on: fx.order(
                    s, f"N{i}-{on}", "C-A", "11-06T00:00", {"received": "11-02T01:00"})))
                entry = TimelineEntry(event_id=f"e{i}", type="note",
                                      occurred_at=T0 + timedelta(seconds=i),
                                      recorded_at=T0 + timedelta(seconds=i), actor="bench",
                                      source="bench", data={"text": "客户来电" * 4})
                out["next entry"][on].append(_timed(
                    sessions, lambda s, on=on, entry=entry: order_queries.add_timeline_entries(
                        s, f"BASE-{on}", [entry])))
    engine.dispose()
    return out


def report(engine: str, figures: dict[str, dict[bool, list[float]]]) -> None:
    for shape, runs in figures.items():
        with_, without = runs[True], runs[False]
        med = statistics.median(with_) - statistics.median(without)
        print(f"{engine:10} {shape:10}  with chain: median {statistics.median(with_):.3f} ms "
              f"mean {statistics.fmean(with_):.3f} | without: median "
              f"{statistics.median(without):.3f} mean {statistics.fmean(without):.3f} | "
              f"added: median {med:+.3f} ms, mean "
              f"{statistics.fmean(with_) - statistics.fmean(without):+.3f} ms  (n={len(with_)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("sqlite", measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.n))
    with throwaway_postgres(durable=True) as url:
        report("postgresql", measure(url, args.n))


if __name__ == "__main__":
    main()
