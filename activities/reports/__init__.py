"""Scheduled report activities: KPI snapshots and the monthly follow-up report."""
