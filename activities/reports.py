"""Scheduled report activities: compute a period's figures and store them once.

A re-run for a period already stored keeps the first stored figures (a figure once reported
stays reproducible) and writes no new snapshot. For the monthly follow-up report it also
recomputes the month at the stored `as_of` and lists the figures that late events (rows
projected after the snapshot, about things before its `as_of`) would change; the report notice
then says so. The notice is written to the outbox in the snapshot's transaction and its key
includes a digest of those changes: a re-run with nothing new queues nothing new.

The message lists the changes as a manager reads them: one line per changed figure and group
("follow-up rate, total: 85.0% (34/40) → 86.0% (37/43)"), grouped by figure with the total
first, at most LATE_FIGURES_LISTED lines; the payload's `data` keeps every changed value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from api.schemas import SURVEY_QUESTIONS
from config import Settings
from db import kpi_snapshots as repo
from db.engine import transaction
from db.notification_templates import DEFAULT_LOCALE, TEMPLATE_DIR, normalize_locale
from db.notifications import Audience, Notice, NotificationEvent, enqueue, team_locales
from kpis import KpiQuery, compute_kpis, follow_up_monthly
from kpis.late import changes, figures
from kpis.periods import zone
from workflows.report_types import (
    PreviousPeriodInput,
    SnapshotResult,
    StoreDailyKpisInput,
    StoreFollowUpReportInput,
)

log = logging.getLogger("waybill.reports")

REPORT_TEAM = "customer_service"  # the managers' in-app copy of the monthly report
LATE_FIGURES_LISTED = 12  # lines in the message; the webhook payload carries them all
TOP_PROBLEMS = 3  # in the message; the report in the payload has them all

# The rates' numerators and denominators: a change shows in the rate's line ("34/40 → 35/41"),
# so a line of their own would say it twice. (`outcomes.answered` counts what `answered` does.)
_SHOWN_IN_RATES = {"due", "attempted", "answered", "outcomes.answered"}
_GROUP = re.compile(r"(by_\w+)\[(.*)\]\.figures\.(.+)", re.DOTALL)
# outcomes.refused, satisfaction.service, problems[goods_not_ok].count, suggestions[text].count
_NAMED = re.compile(r"(\w+)(?:\[(.*)\]\.count|\.(.+))?", re.DOTALL)


@lru_cache(maxsize=4)
def _words(locale: str) -> dict[str, str]:
    # Beside the message template, so a translator finds the report's words in one place.
    path = TEMPLATE_DIR / locale / f"{NotificationEvent.REPORT_FOLLOW_UP_MONTHLY.value}.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _percent(rate: dict[str, Any]) -> str:
    value = rate.get("rate")
    if value is None:
        return "-"
    return f"{value * 100:.1f}% ({rate['numerator']}/{rate['denominator']})"


def _scores(scores: dict[str, Any]) -> str:
    mean = scores.get("mean")
    return "-" if mean is None else f"{mean:.2f} ({scores['count']})"


def _value(value: Any, words: dict[str, str]) -> str:
    if isinstance(value, dict) and "numerator" in value:
        return _percent(value)
    if isinstance(value, dict) and "mean" in value:
        return _scores(value)
    return words["none"] if value is None else str(value)


def _scope_and_name(path: str) -> tuple[str, str, str]:
    """("total" | "by_customer" | "by_tier", group key, figure name) of a figure's path."""
    group = _GROUP.fullmatch(path)
    if group:
        return group[1], group[2], group[3]
    return "total", "", path.removeprefix("total.")


def _question(question: str, words: dict[str, str]) -> str:
    return words.get(f"question.{question}", question)  # a question added later: as sent


def problem_words(code: str, words: dict[str, str]) -> str:
    """A problem code as a manager reads it: `low_score:<question>` names the question."""
    kind, _, question = code.partition(":")
    if kind == "low_score" and question:
        return words["problem.low_score"].format(question=_question(question, words))
    return words.get(f"problem.{code}", code)


def _label(name: str, words: dict[str, str]) -> str:
    named = _NAMED.fullmatch(name)
    if not named or f"figure.{named[1]}" not in words:
        return name  # a figure added to the report later: its path still says what it is
    key = named[2] if named[2] is not None else named[3] or ""
    if named[1] == "outcomes":
        key = words.get(f"outcome.{key}", key)
    elif named[1] == "satisfaction":
        key = _question(key, words)
    elif named[1] == "problems":
        key = problem_words(key, words)
    key = " ".join(key.split())  # a suggestion is the customer's text: keep it to one line
    key = key if len(key) <= 40 else key[:39] + "…"
    return words[f"figure.{named[1]}"].format(key=key)


def late_lines(changed: list[dict[str, Any]], locale: str) -> list[tuple[bool, str]]:
    """One line per changed figure (kpis.late.figures, in the report's order) in `locale`,
    grouped by figure with the total first: `(is it a total, line)`."""
    words = _words(normalize_locale(locale))
    rows = []
    for change in changed:
        scope, key, name = _scope_and_name(change["figure"])
        if name in _SHOWN_IN_RATES:
            continue
        if scope == "total":
            where = words["scope.total"]
        else:
            group = words.get(f"tier.{key}", key) if scope == "by_tier" else key
            where = words.get(f"scope.{scope}", f"{scope} {{key}}").format(key=group)
        rows.append((name, scope == "total", words["line"].format(
            figure=_label(name, words), scope=where,
            reported=_value(change["reported"], words), now=_value(change["now"], words))))
    first = {name: i for i, (name, _, _) in reversed(list(enumerate(rows)))}
    return [(total, line) for name, total, line in
            sorted(rows, key=lambda row: (first[row[0]], not row[1]))]


def _late_text(lines: list[tuple[bool, str]], locale: str) -> str:
    """At most LATE_FIGURES_LISTED lines: past that, groups' lines give way to the totals (what
    a manager reads first), and a last line counts what was left out."""
    if not lines:
        return "-"
    kept = sorted(sorted(range(len(lines)), key=lambda i: (not lines[i][0], i))
                  [:LATE_FIGURES_LISTED])
    text = [lines[i][1] for i in kept]
    if len(lines) > len(kept):
        text.append(_words(normalize_locale(locale))["more"].format(
            count=len(lines) - len(kept)))
    return "\n".join(text)


def _satisfaction_text(figures: dict[str, Any], locale: str) -> str:
    """One line per question, the survey's order first: mean and how many answered."""
    words = _words(normalize_locale(locale))
    known = {q: i for i, q in enumerate(SURVEY_QUESTIONS)}
    lines = [words["question_line"].format(question=_question(q, words), scores=_scores(sc))
             for q, sc in sorted(figures["satisfaction"].items(),
                                 key=lambda kv: (known.get(kv[0], 99), kv[0]))]
    return "\n".join(lines) or words["none"]


def _problems_text(figures: dict[str, Any], locale: str) -> str:
    words = _words(normalize_locale(locale))
    lines = [words["problem_line"].format(rank=i, problem=problem_words(p["label"], words),
                                          count=p["count"])
             for i, p in enumerate(figures["problems"][:TOP_PROBLEMS], start=1)]
    return "\n".join(lines) or words["none"]


def report_url(public_url: str, month: str) -> str:
    """The console page of the month's report: readable in a browser, unlike the API."""
    return f"{public_url}/console/reports/follow-up-monthly?month={month}"


def previous_day(now: datetime, tz: str) -> str:
    return (now.astimezone(zone(tz)).date() - timedelta(days=1)).isoformat()


def previous_month(now: datetime, tz: str) -> str:
    first = now.astimezone(zone(tz)).date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


class ReportActivities:
    """Stores KPI snapshots; `sessions` reach the application database."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="report_previous_period")
    def previous_period(self, inp: PreviousPeriodInput) -> str:
        """The period a run fired at `now` reports: the business-zone day or month before."""
        tz = self._settings.business_timezone
        if inp.unit == "day":
            return previous_day(inp.now, tz)
        if inp.unit == "month":
            return previous_month(inp.now, tz)
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
        log.info("daily kpi snapshot", extra={"day": inp.day, "created": created})
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
                "follow_up_rate": _percent(total["follow_up_rate"]),
                "successful_follow_up_rate": _percent(total["successful_follow_up_rate"]),
                "satisfaction": _scores(total["overall_satisfaction"]),
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
                      "late_changes": _late_text(lines, locale),
                      "satisfaction_by_question": _satisfaction_text(total, locale),
                      "top_problems": _problems_text(total, locale)}))
        return notices
