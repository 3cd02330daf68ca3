"""The document archive's index: table (models.py) and queries (queries.py)."""
