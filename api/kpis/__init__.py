"""KPIs and the monthly follow-up report over HTTP."""
