"""Prometheus metrics for the API and the worker (README "Metrics").

A top-level package rather than shared/ or api/: the API (events, HTTP, pool), the activities
(delivery attempts) and the worker all count into the same definitions, activities may not
import api/, and shared/ may not reach the database, which the scrape-time gauges read (through
db/metrics/). It imports no web framework: the HTTP middleware lives in api/edge/metrics.py.

- metrics.py: every metric Waybill itself counts (names, labels, buckets), in one place;
- database.py: the gauges computed at scrape time from the database and the engine's pool;
- serving.py: the per-process endpoint, and the Temporal SDK's own Prometheus runtime.
"""
