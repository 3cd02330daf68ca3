"""Follow-ups (回访) per delivered order: table (models.py) and queries (queries.py)."""
