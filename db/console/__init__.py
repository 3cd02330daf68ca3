"""The console's server-side state: tables (models.py) and all SQL (queries.py)."""
