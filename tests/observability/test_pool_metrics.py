"""The pool's gauges and its timeout counter, on a real SQLAlchemy pool over a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import TimeoutError as PoolTimeout

from db.engine import make_engine
from observability.database import PoolCollector, count_pool_timeouts
from observability.metrics import DB_POOL_TIMEOUTS


def gauges(engine: object) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(PoolCollector(engine))  # type: ignore[arg-type]
    return {s.name: s.value for family in registry.collect() for s in family.samples}


def test_in_use_overflow_and_timeouts_are_counted(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=1,
                         pool_timeout=0.05)
    count_pool_timeouts(engine)
    before = DB_POOL_TIMEOUTS._value.get()
    assert gauges(engine) == {"waybill_db_pool_size": 1, "waybill_db_pool_checked_out": 0,
                              "waybill_db_pool_overflow": 0}
    first, second = engine.connect(), engine.connect()
    try:
        assert gauges(engine)["waybill_db_pool_checked_out"] == 2
        assert gauges(engine)["waybill_db_pool_overflow"] == 1
        with pytest.raises(PoolTimeout):
            engine.connect()
        assert DB_POOL_TIMEOUTS._value.get() == before + 1
    finally:
        first.close()
        second.close()
        engine.dispose()
