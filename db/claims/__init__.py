"""Claims in the application database: tables (models.py) and all SQL (queries.py)."""
