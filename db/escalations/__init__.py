"""Escalations in the application database: all SQL (queries.py)."""
