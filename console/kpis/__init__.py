"""The console's KPI page and its charts."""
