"""KPIs in the application database: aggregate SQL (queries.py) and stored snapshots."""
