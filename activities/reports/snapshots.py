"""Scheduled report activities: compute a period's figures and store them once.

A re-run for a period already stored keeps the first stored figures (a figure once reported
stays reproducible) and writes no new snapshot. For the monthly follow-up report it also
recomputes the month at the stored `as_of` and lists the figures that late events (rows
projected after the snapshot, about things before its `as_of`) would change; the report notice
then says so. The notice is written to the outbox in the snapshot's transaction and its key
includes a digest of those changes: a re-run with nothing new queues nothing new.

The message lists the changes as a manager reads them (kpis/report_words.py); the payload's
`data` keeps every changed value.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.notify.delivery_start import DeliveryStarter, deliver_after_commit
from config import Settings
from db.engine import transaction
from db.kpis import snapshots as repo
from db.notifications.outbox import Audience, Notice, NotificationEvent, enqueue, team_locales
from db.notifications.templates import DEFAULT_LOCALE
from kpis import KpiQuery, compute_kpis, follow_up_monthly
from kpis.late import changes, figures
from kpis.periods import previous_day, previous_month, zone
from kpis.report_words import (
    late_lines,
    late_text,
    percent,
    problems_text,
    report_url,
    satisfaction_text,
    scores_text,
)
from workflows.reports.types import (
    PreviousPeriodInput,
    SnapshotResult,
    StoreDailyKpisInput,
    StoreFollowUpReportInput,
)

log = logging.getLogger("waybill.reports")

REPORT_TEAM = "customer_service"  # the managers' in-app copy of the monthly report
class ReportActivities:
    """Stores KPI snapshots; `sessions` reach the application database."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 starter: DeliveryStarter | None = None) -> None:
        self._sessions = sessions
        self._settings = settings
        self._starter = starter

    @activity.defn(name="report_previous_period")
    def previous_period(self, inp: PreviousPeriodInput) -> str:
        """The period a run fired at `now` reports: the business-zone day or month before."""
        tz = self._settings.business_timezone
        if inp.unit == "day":
            return previous_day(inp.now, zone(tz))
        if inp.unit == "month":
            return previous_month(inp.now, zone(tz))
        raise ApplicationError(f"unknown period unit {inp.unit!r}", type="UnknownPeriodUnit",
                               non_retryable=True)

    @activity.defn(name="store_daily_kpis")
    def store_daily_kpis(self, inp: StoreDailyKpisInput) -> SnapshotResult:
        tz = zone(self._settings.business_timezone)
        day = date.fromisoformat(inp.day)
        start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
        stop = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
        with transaction(self._sessions) as session:
            report = compute_kpis(session, KpiQuery(from_=start, to=stop, as_of=inp.as_of), tz)
            row, created = repo.store_first(
                session, repo.SnapshotKind.DAILY_KPIS, inp.day, datetime.now(UTC),
                report.period.as_of, str(tz), report.to_json())
            result = SnapshotResult(kind=row.kind, period_key=row.period_key, created=created,
                                    as_of=row.as_of)
        log.info("daily kpi snapshot", extra={"day": inp.day, "stored_now": created})
        return result

    @activity.defn(name="store_follow_up_report")
    def store_follow_up_report(self, inp: StoreFollowUpReportInput) -> SnapshotResult:
        tz = zone(self._settings.business_timezone)
        kind = repo.SnapshotKind.FOLLOW_UP_MONTHLY
        with transaction(self._sessions) as session:
            stored = repo.get(session, kind, inp.month)
            as_of = stored.as_of if stored else inp.as_of
            report = follow_up_monthly(session, inp.month, tz, as_of).to_json()
            row, created = repo.store_first(session, kind, inp.month, datetime.now(UTC),
                                            as_of, str(tz), report)
            late = [] if created else changes(row.body, report)
            changed = [] if created else figures(row.body, report)
            outbox_ids = enqueue(session, self._notices(
                inp.month, row.body, late, changed, team_locales(session, REPORT_TEAM),
                report_url(self._settings.public_url, inp.month)))
            result = SnapshotResult(kind=row.kind, period_key=row.period_key, created=created,
                                    as_of=row.as_of, late_changes=late, late_figures=changed,
                                    outbox_ids=outbox_ids)
        deliver_after_commit(self._starter, outbox_ids)
        log.info("follow-up monthly report", extra={
            "month": inp.month, "created": created, "late_changes": len(late),
            "notifications": len(outbox_ids)})
        return result

    @staticmethod
    def _notices(month: str, body: dict[str, Any], late: list[dict[str, Any]],
                 changed: list[dict[str, Any]], locales: list[str],
                 url: str) -> list[Notice]:
        """The report in each language the report team reads (`locales`, the default first),
        linking to its console page (`url`). Subscriptions choose no language: they get the
        default one, once."""
        digest = hashlib.sha256(json.dumps(late, sort_keys=True, default=str).encode()
                                ).hexdigest()[:16]
        key = f"{NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value}:{month}:{digest}"
        total = body["total"]
        data = {"month": month, "due": total["due"], "attempted": total["attempted"],
                "answered": total["answered"],
                "follow_up_rate": percent(total["follow_up_rate"]),
                "successful_follow_up_rate": percent(total["successful_follow_up_rate"]),
                "satisfaction": scores_text(total["overall_satisfaction"]),
                "late_change_list": late, "late_figures": changed, "report": body,
                "report_url": url}
        notices = []
        for locale in dict.fromkeys([DEFAULT_LOCALE, *locales]):
            lines = late_lines(changed, locale)
            notices.append(Notice(
                # The default language keeps the key (and so the outbox ids) it always had.
                key=key if locale == DEFAULT_LOCALE else f"{key}:{locale}",
                event_type=NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value,
                audience=Audience.STAFF.value, order_id=None, locale=locale,
                teams=[REPORT_TEAM] if locale in locales else [],
                webhook=locale == DEFAULT_LOCALE,
                data={**data, "late_change_count": len(lines),
                      "late_changes": late_text(lines, locale),
                      "satisfaction_by_question": satisfaction_text(total, locale),
                      "top_problems": problems_text(total, locale)}))
        return notices
