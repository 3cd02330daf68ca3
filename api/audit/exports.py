"""An order's story as files an auditor opens: JSON Lines (an item a line) and CSV (a UTF-8
BOM, headers in the chosen language), each item with its sentence as the console shows it and
its event and record times to the second with their zone; and the same for every order created
in a time range, streamed a page of orders at a time (issue 17 §5)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from api.errors import ApiError
from api.i18n import DEFAULT_LOCALE, from_accept_language, match_locale
from console.audit import story as told
from console.i18n import Viewer, catalogue, valid_zone
from db.orders import exports as repo
from db.orders import story as story_repo
from db.orders.story import ALL_KINDS, StoryItem, StoryKind
from kpis.cells import inert

FORMATS = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}
# The columns of both formats, in this order; a CSV's headers are `export.col.<name>`.
COLUMNS = ("order_id", "kind", "type", "sentence", "actor", "source", "occurred_at",
           "recorded_at", "subject_id", "event_id", "texts", "data")
# Orders read per page of a time-range export: each page is one short unit of work (its own
# session), so memory holds at most this many orders' stories, whatever the range.
RANGE_PAGE = 50


def viewer_for(lang: str | None, tz: str | None, accept_language: str | None,
               default_zone: str) -> Viewer:
    """`?lang=` (zh-CN or en), else the caller's Accept-Language, else zh-CN; `?tz=` (an IANA
    zone), else the console's zone setting.

    Raises:
        ApiError: 422 `unknown_language` or `unknown_time_zone`.
    """
    locale = match_locale(lang) if lang else from_accept_language(accept_language)
    if lang and locale is None:
        raise ApiError(422, "unknown_language", f"unknown language {lang[:20]!r}",
                       allowed=["zh-CN", "en"])
    zone = valid_zone(tz) if tz else valid_zone(default_zone) or "UTC"
    if zone is None:
        raise ApiError(422, "unknown_time_zone", f"unknown time zone {(tz or '')[:64]!r}")
    return Viewer(locale=locale or DEFAULT_LOCALE, zone=zone)


def stamp(viewer: Viewer, value: datetime) -> str:
    """ISO 8601 to the second with the offset of the viewer's zone: `2026-12-05T15:51:15+08:00`."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(viewer.zone)).isoformat(timespec="seconds")


def item_row(viewer: Viewer, order_id: str, item: StoryItem) -> dict[str, Any]:
    return {"order_id": order_id, "kind": item.kind.value, "type": item.type,
            "sentence": told.sentence(viewer, item), "actor": item.actor, "source": item.source,
            "occurred_at": stamp(viewer, item.occurred_at),
            "recorded_at": stamp(viewer, item.recorded_at), "subject_id": item.subject_id,
            "event_id": item.event_id, "texts": list(told.texts(item)), "data": item.data}


def headers(viewer: Viewer) -> list[str]:
    words = catalogue(viewer.locale)
    return [words[f"export.col.{name}"].format(zone=viewer.zone) for name in COLUMNS]


def jsonl_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=str) + "\n"


def csv_line(values: Iterable[Any]) -> str:
    """One CSV record; nested values as JSON (texts one a line) so a cell holds all of them,
    and every cell through kpis.cells.inert: actors and data are typed in by people."""
    out = io.StringIO()
    cells = []
    for value in values:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(value)
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        cells.append(inert(value))
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


def csv_header(viewer: Viewer) -> str:
    """The BOM first, as the KPI and audit-page CSVs: without it a spreadsheet guesses a legacy
    encoding and garbles the Chinese text."""
    return "\ufeff" + csv_line(headers(viewer))


def lines(viewer: Viewer, fmt: str, rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield jsonl_line(row) if fmt == "jsonl" else csv_line(row[c] for c in COLUMNS)


def order_story(session: Session, viewer: Viewer, order_id: str,
                kinds: frozenset[StoryKind] = ALL_KINDS) -> tuple[list[dict[str, Any]], bool]:
    """The order's story as export rows, and whether it was cut at STORY_LIMIT."""
    story = story_repo.story(session, order_id, kinds)
    return [item_row(viewer, order_id, i) for i in story.items], story.truncated


def order_file(session: Session, viewer: Viewer, order_id: str, fmt: str,
               kinds: frozenset[StoryKind] = ALL_KINDS) -> tuple[str, bool]:
    rows, truncated = order_story(session, viewer, order_id, kinds)
    head = csv_header(viewer) if fmt == "csv" else ""
    return head + "".join(lines(viewer, fmt, rows)), truncated


def check_range(since: datetime | None, until: datetime | None, max_days: int) -> None:
    """A range has both ends with a zone, starts before it ends and spans at most `max_days`.

    Raises:
        ApiError: 422 `audit_range_missing`, `audit_range_naive`, `audit_range_inverted` or
            `audit_range_too_long`.
    """
    if since is None or until is None:
        raise ApiError(422, "audit_range_missing", "give both from and to")
    if since.tzinfo is None or until.tzinfo is None:
        raise ApiError(422, "audit_range_naive",
                       "from and to need a time zone (e.g. 2026-12-01T00:00:00+08:00)")
    if since >= until:
        raise ApiError(422, "audit_range_inverted", "from must be before to")
    if until - since > timedelta(days=max_days):
        raise ApiError(422, "audit_range_too_long", f"a range spans at most {max_days} days",
                       max_days=max_days)


def range_lines(sessions: sessionmaker[Session], viewer: Viewer, fmt: str, since: datetime,
                until: datetime, page: int = RANGE_PAGE) -> Iterator[str]:
    """Every story item of the orders created in [since, until), order by order, as lines.

    Lazy: it reads a page of `page` orders (keyset, db/orders/exports.py) in its own short
    session, yields their lines, and only then reads the next page, so a StreamingResponse
    sends the first orders while later ones are not yet read, and memory stays bounded."""
    if fmt == "csv":
        yield csv_header(viewer)
    after: tuple[datetime, str] | None = None
    while True:
        with sessions() as session:
            orders = repo.orders_created_page(session, since, until, after, page)
            chunk = []
            for order in orders:
                rows, _ = order_story(session, viewer, order.order_id)
                chunk.append("".join(lines(viewer, fmt, rows)))
            after = (orders[-1].created_at, orders[-1].order_id) if orders else None
        if chunk:
            yield "".join(chunk)
        if len(orders) < page:
            return
