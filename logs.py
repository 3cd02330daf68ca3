"""Structured logging: one JSON object per line, with any `extra=` fields included, and the
trace and span ids of the span active when the line was written (shared/tracing.py; none while
traces are off), next to the request id (api/edge/request_id.py).

Importing this module makes every logger created afterwards a `StructuredLogger` (`cli.py`
imports it first), so an `extra=` key that names a LogRecord attribute cannot crash a process.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def safe_extra(extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` with keys that name a LogRecord attribute (process, name, created, ...) suffixed
    with `_`: the standard library raises KeyError for them, inside the logging call."""
    return {f"{k}_" if k in _STANDARD else k: v for k, v in extra.items()}


class StructuredLogger(logging.Logger):
    """A Logger whose `extra=` keys never collide. A clash used to surface only when its log
    line ran, typically on an error path (`waybill dev` crashed with a traceback instead of
    saying which child had exited)."""

    def makeRecord(  # noqa: N802 - the standard library's name
            self, name: str, level: int, fn: str, lno: int, msg: object, args: Any,
            exc_info: Any, func: str | None = None, extra: Mapping[str, object] | None = None,
            sinfo: str | None = None) -> logging.LogRecord:
        return super().makeRecord(name, level, fn, lno, msg, args, exc_info, func,
                                  safe_extra(extra) if extra else extra, sinfo)


logging.setLoggerClass(StructuredLogger)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Formatted on the thread that logged (no queueing handler), so the active span is
        # the one the line was written under; without one the context is invalid (cheap).
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = trace.format_trace_id(span.trace_id)
            entry["span_id"] = trace.format_span_id(span.span_id)
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request's full URL at INFO; a webhook URL may carry a token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
