"""SLA policy versions over HTTP."""
