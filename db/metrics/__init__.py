"""Aggregate counts the Prometheus gauges are made of (observability/database.py)."""
