"""Orders in the application database: all SQL about orders and their timelines (queries.py)."""
