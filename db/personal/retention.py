"""The retention of closed orders' personal data (issue 17 §6): the one service the daily
schedule's activity, `waybill retention run` and the erasure request
(`POST /v1/orders/{id}/personal-data/redact`) go through.

An order is due `days` after the last of its closing and its claims' and complaints' closings;
a complaint with no order, `days` after it closed. Each is redacted in its own short
transaction (db/personal/redact.py), in batches of at most `batch`, so a long backlog never
holds one long transaction; a redacted order is skipped, so a run is idempotent and a retried
one carries on where the last stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db.engine import transaction
from db.orders.models import Order
from db.personal import redact

log = logging.getLogger("waybill.retention")


@dataclass
class RetentionReport:
    """What a run did (or, dry, would do): the orders and complaints redacted, values changed
    and inline values kept in rows chained before migration 0017."""

    cutoff: datetime
    orders: list[str] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    values: int = 0
    inline_kept: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # subject -> why not
    late_values: int = 0  # written after their order's redaction, redacted now


class NotRedactable(Exception):
    """An erasure request for an order that is not closed, or has an open case."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _count(report: RetentionReport, done: redact.Redacted) -> None:
    report.values += done.values
    report.inline_kept += done.inline_kept


def run(sessions: sessionmaker[Session], days: int, now: datetime, *, batch: int = 100,
        max_batches: int = 50, dry_run: bool = False, order_id: str | None = None
        ) -> RetentionReport:
    """Redact what is due `days` before `now`: one order if `order_id` is given (skipped with
    its reason unless due), else up to `batch * max_batches` orders and complaints."""
    cutoff = now - timedelta(days=days)
    report = RetentionReport(cutoff)
    if order_id is not None:
        _run_one(sessions, days, now, cutoff, order_id, dry_run, report)
        return report
    for kind, due, apply, names in (
            ("order", redact.due_orders, redact.redact_order, report.orders),
            ("complaint", redact.due_complaints, redact.redact_complaint, report.complaints)):
        if dry_run:
            with transaction(sessions) as session:
                names += due(session, cutoff, batch * max_batches)
        for _ in range(0 if dry_run else max_batches):
            with transaction(sessions) as session:
                ids = due(session, cutoff, batch)
            for subject in ids:
                with transaction(sessions) as session:
                    done = apply(session, subject, now, days=days)
                if not done.already:
                    names.append(subject)
                    _count(report, done)
            if len(ids) < batch:
                break
        log.info("retention run", extra={"kind": kind, "redacted": len(names),
                                         "dry_run": dry_run, "days": days})
    if not dry_run:  # what was written about an order after its redaction, as old as the period
        with transaction(sessions) as session:
            report.late_values = redact.redact_late_values(session, cutoff, now)
    return report


def _run_one(sessions: sessionmaker[Session], days: int, now: datetime, cutoff: datetime,
             order_id: str, dry_run: bool, report: RetentionReport) -> None:
    with transaction(sessions) as session:
        if session.get(Order, order_id) is None:
            report.skipped[order_id] = "unknown_order"
            return
        if redact.is_redacted(session, order_id):
            report.skipped[order_id] = "already_redacted"
            return
        since, why = redact.closed_since(session, order_id)
        if why is not None or since is None or since > cutoff:
            report.skipped[order_id] = why or "not_due"
            return
        report.orders.append(order_id)
        if not dry_run:
            _count(report, redact.redact_order(session, order_id, now, days=days))


def erase(session: Session, order_id: str, now: datetime, actor: str,
          source: str) -> redact.Redacted:
    """An erasure request for one closed order, whatever the retention period: refused with
    NotRedactable while the order or one of its claims or complaints is open. The caller
    checked the order exists and owns the transaction."""
    _, why = redact.closed_since(session, order_id)
    if why == redact.ORDER_OPEN:
        raise NotRedactable(why, "the order is neither closed nor cancelled")
    if why == redact.CASE_OPEN:
        raise NotRedactable(why, "one of the order's claims or complaints is still open")
    done = redact.redact_order(session, order_id, now, days=None, actor=actor, source=source)
    log.info("personal data erased on request", extra={
        "order_id": order_id, "actor": actor, "already": done.already, "values": done.values,
        "inline_kept": done.inline_kept})
    return done
