"""What an auditor reads about one order: the business timeline as stored, and the raw Temporal
history turned into rows (with each event's full JSON kept beside its summary); plus writing
either as JSON Lines or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from google.protobuf.json_format import MessageToDict
from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from db.orders import story as story_repo
from db.orders.models import Order
from kpis.cells import inert
from shared.codec import opened
from workflows.ids import order_workflow_id

# The order's whole story (db/orders/story.py), as the API's timeline gives it.
TIMELINE_FIELDS = ("event_id", "kind", "type", "actor", "source", "occurred_at", "recorded_at",
                   "subject_id", "data")
HISTORY_FIELDS = ("event_id", "time", "event_type", "summary", "event")
RANGE_LIMIT = 200
# The attribute fields that say, in a word, what an event was about.
_SUMMARY_FIELDS = ("workflow_type", "activity_type", "signal_name", "marker_name",
                   "accepted_request", "outcome", "timer_id",
                   "activity_id", "workflow_task_completed_event_id", "identity")


def timeline_rows(session: Session, order_id: str) -> list[dict[str, Any]]:
    return [{"event_id": e.event_id, "kind": e.kind.value, "type": e.type, "actor": e.actor,
             "source": e.source, "occurred_at": e.occurred_at.isoformat(),
             "recorded_at": e.recorded_at.isoformat(), "subject_id": e.subject_id,
             "data": e.data} for e in story_repo.story(session, order_id).items]


def _summary(event: HistoryEvent) -> str:
    which = event.WhichOneof("attributes")
    if which is None:
        return ""
    attrs = MessageToDict(getattr(event, which), preserving_proto_field_name=True)
    parts = []
    for field in _SUMMARY_FIELDS:
        value = attrs.get(field)
        if isinstance(value, dict):
            value = value.get("name") or value.get("input", {}).get("name") \
                or next((k for k in value if k in ("success", "failure")), None)
        if value not in (None, "", {}):
            parts.append(f"{field}={value}")
    failure = attrs.get("failure", {}).get("message")
    if failure:
        parts.append(f"failure={failure}")
    return ", ".join(parts[:3])


def history_row(event: HistoryEvent) -> dict[str, Any]:
    event_type = MessageToDict(event, preserving_proto_field_name=True).get("event_type", "")
    return {"event_id": event.event_id, "time": event.event_time.ToDatetime().isoformat() + "Z",
            "event_type": str(event_type).removeprefix("EVENT_TYPE_"),
            "summary": _summary(event),
            "event": MessageToDict(event, preserving_proto_field_name=True)}


async def history_rows(client: Client, order_id: str) -> list[dict[str, Any]]:
    history = await client.get_workflow_handle(order_workflow_id(order_id)).fetch_history()
    return [history_row(e) for e in opened(client, history).events]  # decrypted: issue 17 §4


def orders_created_between(session: Session, start: datetime,
                           end: datetime) -> list[Order]:
    return list(session.scalars(
        select(Order).where(Order.created_at >= start, Order.created_at < end)
        .order_by(Order.created_at, Order.order_id).limit(RANGE_LIMIT)))


def as_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def as_csv(rows: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> str:
    """CSV text starting with a byte order mark, as the KPI CSVs do (kpis/export.py): without
    it a spreadsheet guesses a legacy encoding and garbles the Chinese text."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # Nested values go in as JSON so a spreadsheet cell holds all of them; every cell
        # through kpis.cells.inert, since actors and event data are typed in by people.
        writer.writerow({f: inert(json.dumps(row[f], ensure_ascii=False, sort_keys=True)
                                  if isinstance(row[f], dict | list) else row[f])
                         for f in fields})
    return out.getvalue()
