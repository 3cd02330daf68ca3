"""KPI timing over a generated year of orders in PostgreSQL, and a consistency check.

    .venv/bin/python -m bench.kpis_1m                      # 1M orders, throwaway server
    .venv/bin/python -m bench.kpis_1m --orders 20000 --runs 5
    WAYBILL_BENCH_DB_URL=postgresql+psycopg2://... .venv/bin/python -m bench.kpis_1m

With a URL given the database must be empty (it is migrated and filled). The data is made in
the database by generate_series, so 1M orders take about a minute; a fixed seed makes the runs
comparable. Each timed run is a full `compute_kpis` of one month, once ungrouped and once
grouped by customer and tier; the check then recomputes figures of that month with plain SQL
written independently of db/kpis/ (percentile_disc for the percentiles) and compares.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from db.migrate import upgrade
from kpis import KpiQuery, compute_kpis
from kpis.models import TRANSITIONS
from tests.support.pg import throwaway_postgres

log = logging.getLogger("bench.kpis")

YEAR_START = "2026-01-01T00:00:00Z"
MONTH = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))
AS_OF = datetime(2027, 3, 1, tzinfo=UTC)

# One row per order; `r` holds independent uniform draws, fixed by setseed.
ORDERS_SQL = """
INSERT INTO orders (order_id, customer_id, customer_tier, customer, lines, destination,
    promised_ship_by, promised_delivery_by, sla_policy, sla_policy_version, sla_policy_snapshot,
    stage, received_at, confirmed_at, picked_at, shipped_at, in_transit_at, delivered_at,
    receipt_due_at, receipt_archived_at, followed_up_at, closed_at, cancelled_at, carrier,
    in_full, on_time, breached, detail, create_hash, created_by, created_by_role, created_at,
    updated_at, projection_seq)
SELECT id, cust, tier, '{}'::jsonb, '[]'::jsonb, '{}'::jsonb,
    recv + interval '1 day', promised, policy, 'v1', '{}'::jsonb,
    CASE WHEN cancelled IS NOT NULL THEN 'cancelled' WHEN delivered IS NULL THEN 'shipped'
         ELSE 'delivered' END,
    recv, conf, picked, shipped, shipped, delivered,
    delivered + interval '3 days', archived, followed, NULL, cancelled, carrier,
    CASE WHEN delivered IS NULL THEN NULL ELSE r[7] > 0.06 END,
    CASE WHEN delivered IS NULL THEN NULL ELSE delivered <= promised END,
    false, '{}'::jsonb, md5(id), 'bench', 'integration', recv, recv, 1
FROM (
 SELECT *, CASE WHEN r[13] < 0.9 THEN delivered + r[12] * interval '5 days' END AS archived,
           CASE WHEN r[14] < 0.6 THEN delivered + interval '2 days' + r[14] * interval '8 days'
                END AS followed
 FROM (
  SELECT *, CASE WHEN r[10] < 0.97 AND cancelled IS NULL
                 THEN shipped + interval '1 day' + r[4] * interval '2 days' END AS delivered
  FROM (
    SELECT *, CASE WHEN cancelled IS NULL THEN conf + r[3] * interval '8 hours' END AS picked,
              CASE WHEN cancelled IS NULL
                   THEN conf + r[3] * interval '8 hours' + r[8] * interval '12 hours' END
                   AS shipped
    FROM (
      SELECT 'ORD-' || g AS id, 'CUST-' || lpad((floor(r[5] * r[5] * 200))::int::text, 3, '0')
             AS cust, CASE WHEN r[6] < 0.2 THEN 'key' ELSE 'standard' END AS tier,
             CASE WHEN r[6] < 0.2 THEN 'key-accounts' ELSE 'standard' END AS policy,
             (ARRAY['SF', 'JD', 'ZTO', 'YTO', 'EMS'])[1 + floor(r[9] * 5)::int] AS carrier,
             recv, recv + interval '3 days' AS promised,
             recv + r[2] * interval '2 hours' AS conf,
             CASE WHEN r[11] < 0.03 THEN recv + interval '1 hour' END AS cancelled,
             r, g
      FROM (
        SELECT g, r, %(start)s::timestamptz + (g::float8 / %(n)s) * interval '365 days'
                     + r[1] * interval '1 hour' AS recv
        FROM (SELECT g, ARRAY(SELECT random() FROM generate_series(1, 14) WHERE g > 0) AS r
              FROM generate_series(1, %(n)s) g) s
      ) t
    ) u
  ) v
 ) w
) x
"""

# The rows below draw from the order's hash, so they follow the orders without a second seed.
FOLLOW_UPS_SQL = """
INSERT INTO follow_ups (order_id, customer_id, customer_tier, sla_policy, delivered_at, due_at,
    expires_at, status, calls, attempted, outcome, answered_at, scores, problems, suggestions,
    updated_seq)
SELECT order_id, customer_id, customer_tier, sla_policy, delivered_at,
       delivered_at + interval '2 days', delivered_at + interval '9 days',
       CASE WHEN h < 50 THEN 'answered' WHEN h < 70 THEN 'refused' ELSE 'expired' END,
       (h % 3), h < 90,
       CASE WHEN h < 50 THEN 'answered' WHEN h < 70 THEN 'refused' ELSE 'expired' END,
       CASE WHEN h < 50 THEN delivered_at + interval '3 days' END,
       CASE WHEN h < 50 THEN jsonb_build_object('delivery', 1 + h % 5, 'service', 1 + h % 4) END,
       CASE WHEN h < 10 THEN '["late"]'::jsonb WHEN h < 15 THEN '["damaged"]'::jsonb END,
       CASE WHEN h < 3 THEN 'call before delivery' END, 1
FROM (SELECT *, ('x' || substr(create_hash, 1, 6))::bit(24)::int % 100 AS h FROM orders) o
WHERE delivered_at IS NOT NULL AND ('x' || substr(create_hash, 7, 6))::bit(24)::int % 10 < 6
"""

ESCALATIONS_SQL = """
INSERT INTO escalations (id, order_id, breach_id, kind, stage, level, state, customer_id,
    customer_tier, due_at, opened_at, resolved_at, acknowledged_at, updated_seq)
SELECT 'ESC-' || order_id, order_id, 'B-' || order_id, 'late_delivery', 'shipped',
       1 + h % 3, CASE WHEN h % 4 = 0 THEN 'open' ELSE 'resolved' END, customer_id,
       customer_tier, promised_delivery_by, promised_delivery_by,
       CASE WHEN h % 4 <> 0 THEN promised_delivery_by + (1 + h % 47) * interval '1 hour' END,
       promised_delivery_by + (5 + h % 55) * interval '1 minute', 1
FROM (SELECT *, ('x' || substr(create_hash, 13, 6))::bit(24)::int AS h FROM orders) o
WHERE on_time IS false AND h % 3 = 0
"""

ESCALATION_EVENTS_SQL = """
INSERT INTO escalation_events (escalation_id, seq, at, action, level, actor, detail)
SELECT id, 1, acknowledged_at, 'acknowledged', 1, 'agent', '{}'::jsonb FROM escalations
"""

COMPLAINTS_SQL = """
INSERT INTO complaints (id, order_id, customer_id, customer_tier, customer, origin, category,
    description, step, sla_policy, sla_policy_version, sla_policy_snapshot, opened_at,
    first_reply_at, resolved_at, satisfaction_score, satisfaction_at, deadlines, breached,
    breaches, created_by, created_by_role, updated_at, updated_seq)
SELECT 'CMP-' || order_id, order_id, customer_id, customer_tier, '{}'::jsonb, 'phone',
       'delivery', 'late', 'closed', sla_policy, 'v1', '{}'::jsonb, delivered_at,
       delivered_at + (1 + h % 20) * interval '1 hour',
       delivered_at + (1 + h % 90) * interval '1 hour', 1 + h % 5,
       delivered_at + (2 + h % 90) * interval '1 hour', '{}'::jsonb, false, '[]'::jsonb,
       'bench', 'agent', delivered_at, 1
FROM (SELECT *, ('x' || substr(create_hash, 19, 6))::bit(24)::int AS h FROM orders) o
WHERE delivered_at IS NOT NULL AND h % 200 = 0
"""

CLAIMS_SQL = """
INSERT INTO claims (id, order_id, customer_id, customer_tier, cause, origin, state, step,
    breached, opened_by, opened_at, liability, amount_minor, currency, detail, updated_seq)
SELECT 'CLM-' || order_id, order_id, customer_id, customer_tier,
       CASE WHEN h % 2 = 0 THEN 'damaged' ELSE 'short' END, 'agent', 'open', 'assess', false,
       'bench', delivered_at + interval '1 day',
       CASE WHEN h % 3 = 0 THEN 'carrier' WHEN h % 3 = 1 THEN 'us' END,
       CASE WHEN h % 3 < 2 THEN 1000 + h % 50000 END, 'CNY', '{}'::jsonb, 1
FROM (SELECT *, ('x' || substr(create_hash, 25, 6))::bit(24)::int AS h FROM orders) o
WHERE in_full IS false AND h % 5 = 0
"""


def generate(engine: Engine, n: int) -> None:
    """Fill an empty, migrated database with `n` orders received over a year, and their
    follow-ups, escalations (late ones), complaints and claims."""
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cur:
            cur.execute("SELECT setseed(0.42)")
            cur.execute(ORDERS_SQL, {"start": YEAR_START, "n": n})
            for sql in (FOLLOW_UPS_SQL, ESCALATIONS_SQL, ESCALATION_EVENTS_SQL, COMPLAINTS_SQL,
                        CLAIMS_SQL):
                cur.execute(sql)
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    with engine.connect() as conn:
        counts = {t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
                  for t in ("orders", "follow_ups", "escalations", "complaints", "claims")}
    log.info("generated %s in %.1f s", counts, time.perf_counter() - started)


def _time(engine: Engine, query: KpiQuery, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        with Session(engine) as s:
            t = time.perf_counter()
            compute_kpis(s, query)
            out.append(time.perf_counter() - t)
    return out


def _p(values: list[float], p: int) -> float:
    ranked = sorted(values)
    return ranked[max(0, -(-p * len(ranked) // 100) - 1)]


def timings(engine: Engine, runs: int) -> dict[str, list[float]]:
    start, stop = MONTH
    return {"ungrouped": _time(engine, KpiQuery(start, stop, [], AS_OF), runs),
            "customer,tier": _time(engine, KpiQuery(start, stop, ["customer", "tier"], AS_OF),
                                   runs)}


INDEPENDENT_OTIF = """
SELECT customer_id, customer_tier, count(*),
       count(*) FILTER (WHERE on_time AND in_full AND delivered_at IS NOT NULL)
FROM orders WHERE promised_delivery_by >= %(a)s AND promised_delivery_by < %(b)s
  AND cancelled_at IS NULL GROUP BY ROLLUP ((customer_id, customer_tier))
"""

INDEPENDENT_CYCLE = """
SELECT count(*),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY secs),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY secs), max(secs)
FROM (SELECT floor(extract(epoch FROM {b}_at))::bigint - floor(extract(epoch FROM {a}_at))::bigint
             AS secs
      FROM orders WHERE {b}_at >= %(a)s AND {b}_at < %(b)s AND {a}_at IS NOT NULL) d
"""


def consistency(engine: Engine) -> list[str]:
    """Differences between the report and plain SQL over the raw rows ([] when none)."""
    start, stop = MONTH
    with Session(engine) as s:
        grouped = compute_kpis(s, KpiQuery(start, stop, ["customer", "tier"], AS_OF))
    args = {"a": start, "b": stop}
    problems: list[str] = []
    with engine.connect() as conn:
        expected = {(c, t): (n, ok) for c, t, n, ok in
                    conn.exec_driver_sql(INDEPENDENT_OTIF, args)}
        reported = {(g.key["customer"], g.key["tier"]): (g.figures.otif.denominator,
                                                         g.figures.otif.numerator)
                    for g in grouped.groups if g.figures.otif.denominator}
        reported[(None, None)] = (grouped.total.otif.denominator, grouped.total.otif.numerator)
        if expected != reported:
            diff = set(expected.items()) ^ set(reported.items())
            problems.append(f"OTIF differs for {sorted(diff, key=str)[:5]}")
        for a, b in TRANSITIONS:
            row = tuple(conn.exec_driver_sql(INDEPENDENT_CYCLE.format(a=a, b=b), args).one())
            d = grouped.total.cycle_times[f"{a}_to_{b}"]
            if row != (d.count, d.p50, d.p90, d.max):
                problems.append(f"{a}_to_{b}: report {d} vs SQL {row}")
    log.info("OTIF total %s/%s over %d groups; cycle times checked: %d",
             grouped.total.otif.numerator, grouped.total.otif.denominator,
             len(grouped.groups), len(TRANSITIONS))
    return problems


def _has_orders(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM orders)").scalar_one()


@contextmanager
def _database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with throwaway_postgres() as made:
        yield made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per query")
    parser.add_argument("--db-url", default=os.environ.get("WAYBILL_BENCH_DB_URL"),
                        help="an empty PostgreSQL database (default: a throwaway server)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --db-url: keep orders already generated there")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    with _database(args.db_url) as url:
        upgrade(url)
        engine = create_engine(url)
        if not (args.reuse and _has_orders(engine)):
            generate(engine, args.orders)
        for name, values in timings(engine, args.runs).items():
            log.info("compute_kpis %s, month %s, %d runs: p50 %.0f ms, p99 %.0f ms",
                     name, MONTH[0].strftime("%Y-%m"), len(values),
                     1000 * statistics.median(values), 1000 * _p(values, 99))
        problems = consistency(engine)
        for problem in problems:
            log.error("inconsistent: %s", problem)
        log.info("consistency check: %s", "FAILED" if problems else "report == plain SQL")
        engine.dispose()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
