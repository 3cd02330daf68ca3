"""What every family of KPI aggregates shares: the window, the group keys, and the SQL that
runs alike on SQLite and PostgreSQL.

Every aggregate (db/kpis/{orders,follow_ups,escalations,complaints,claims}.py) takes a `Window`
(the instants [start, end) an event must fall in to count) and the group keys, and returns
plain numbers keyed by the group's values (a tuple in `group_by` order; `()` for the total).
The same SQL runs on SQLite and PostgreSQL and gives the same numbers there:

* durations are whole seconds, `floor(end) - floor(start)` on the epoch, on both engines;
  they leave the database as they are (`Samples`), for kpis/ to rank: sorting in the
  database (row_number() or an ordered aggregate) cost seconds over a month of orders, and
  a caller that merges groups into a total needs the values, not their percentiles;
* JSON answers (survey scores, problem codes) are unpacked with each engine's own table
  function, and only the counts per value leave the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, FromClause, Integer, Select, String, and_, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.functions import FunctionElement

from db.orders.models import Order

Key = tuple[str | None, ...]
Samples = dict[tuple[Key, str], "np.ndarray"]  # (group, metric) -> seconds, unordered
# Where every group key lives on an order; a table without a key takes it from its order.
ORDER_KEYS: dict[str, Any] = {"customer": Order.customer_id, "tier": Order.customer_tier,
                              "carrier": Order.carrier, "sla_policy": Order.sla_policy}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def holds(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column < self.end)


class epoch_seconds(FunctionElement[int]):  # noqa: N801 (a SQL function, named like one)
    """Whole seconds since the epoch of a timestamp, truncated, on either engine."""

    type = Integer()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    # date_part is a double (EXTRACT a numeric, several times slower over a month of orders);
    # a double holds an epoch in microseconds exactly, so its floor is the same.
    return f"CAST(FLOOR(date_part('epoch', {compiler.process(arg, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(strftime('%s', {compiler.process(arg, **kw)}) AS INTEGER)"


class joined_ints(FunctionElement[str]):  # noqa: N801 (a SQL aggregate, named like one)
    """The group's integers as one comma-separated text, in no particular order."""

    type = String()
    inherit_cache = True


@compiles(joined_ints, "postgresql")
def _joined_pg(element: joined_ints, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"string_agg(CAST({compiler.process(arg, **kw)} AS TEXT), ',')"


@compiles(joined_ints, "sqlite")
def _joined_sqlite(element: joined_ints, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"group_concat({compiler.process(arg, **kw)}, ',')"


def seconds(start: Any, end: Any) -> ColumnElement[int]:
    return epoch_seconds(end) - epoch_seconds(start)


# -- grouping ----------------------------------------------------------------------------------

def group_columns(group_by: Sequence[str], own: dict[str, Any],
                  orders: FromClause | None) -> list[ColumnElement[Any]]:
    """The group-by expressions, labelled g0, g1...; a key the table lacks comes from orders."""
    out = []
    for i, key in enumerate(group_by):
        if key in own:
            column = own[key]
        else:
            assert orders is not None
            column = orders.c[ORDER_KEYS[key].key]
        out.append(column.label(f"g{i}"))
    return out


def _needs_orders(group_by: Sequence[str], own: dict[str, Any]) -> bool:
    return any(key not in own for key in group_by)


def key_of(row: Any, n: int) -> Key:
    """The group of a result row whose first `n` columns are g0, g1..."""
    return tuple(row[i] for i in range(n))


def as_int(value: Any) -> int:
    return int(value or 0)


def grouped(table: Any, own: dict[str, Any], order_id: Any,
            group_by: Sequence[str]) -> tuple[list[ColumnElement[Any]], FromClause]:
    """Group columns of `table`, outer-joined to its order when a key lives on the order."""
    if not _needs_orders(group_by, own):
        return group_columns(group_by, own, None), table.__table__
    orders = Order.__table__
    source = table.__table__.outerjoin(orders, orders.c.order_id == order_id)
    return group_columns(group_by, own, orders), source


def prepare_report(session: Session) -> None:
    """Settings for this transaction's report queries.

    PostgreSQL's JIT compiles the big month-wide aggregates for ~1 s each, far longer than
    they then run (tens of ms), so it is off. The planner sees the month's transitions (six
    correlated time ranges OR-ed) as ~40% of all orders and scans the whole table; they are
    ~10% and the table's pages are cached, which the SSD-like random_page_cost tells it, so it
    combines the time indexes instead. Both last only for the transaction (SET LOCAL).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def is_true(column: QueryableAttribute[bool | None]) -> ColumnElement[bool]:
    return column.is_(True)


# -- durations ---------------------------------------------------------------------------------

def samples(session: Session, rows: Select[Any], n_keys: int) -> Samples:
    """The seconds of `rows` (columns g0.., metric, secs) per group and metric, as arrays.

    Per group and metric one text of seconds leaves the database (a few hundred rows instead
    of one per duration), and is parsed in C; ranking is left to the caller, which can merge
    groups first.
    """
    sub = rows.subquery()
    parts = [sub.c[f"g{i}"] for i in range(n_keys)] + [sub.c.metric]
    q = select(*parts, joined_ints(sub.c.secs)).where(sub.c.secs.is_not(None)).group_by(*parts)
    return {(key_of(row, n_keys), row[n_keys]): parse_ints(row[n_keys + 1])
            for row in session.execute(q)}


def parse_ints(joined: str) -> np.ndarray:
    return np.fromstring(joined, dtype=np.int64, sep=",")
