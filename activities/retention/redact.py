"""The personal-data retention run's activity (issue 17 §6): redacts, in bounded batches, the
orders and complaints closed longer than the period. Idempotent: a redacted order is skipped,
so a retry (or the next day's run) carries on where this one stopped."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from config import Settings
from db.personal import retention
from workflows.retention.types import RetentionInput, RetentionResult

log = logging.getLogger("waybill.retention")

# A run redacts at most personal_data_retention_batch x MAX_BATCHES subjects per kind; a
# backlog beyond that waits for the next day's run.
MAX_BATCHES = 50
RETENTION_TIMEOUT = timedelta(minutes=30)


class RetentionActivities:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn
    def redact_due(self, inp: RetentionInput) -> RetentionResult:
        days = inp.days or self._settings.personal_data_retention_days
        report = retention.run(self._sessions, days, datetime.now(UTC),
                               batch=self._settings.personal_data_retention_batch,
                               max_batches=MAX_BATCHES, dry_run=inp.dry_run)
        log.info("personal data retention", extra={
            "days": days, "dry_run": inp.dry_run, "orders": len(report.orders),
            "complaints": len(report.complaints), "values": report.values,
            "inline_kept": report.inline_kept, "late_values": report.late_values})
        return RetentionResult(orders=len(report.orders), complaints=len(report.complaints),
                               values=report.values, inline_kept=report.inline_kept,
                               late_values=report.late_values)
