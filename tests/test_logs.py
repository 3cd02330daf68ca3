"""logs.py: an `extra=` key naming a LogRecord attribute is kept, not a crash."""

from __future__ import annotations

import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider

import logs


def test_reserved_extra_keys_are_kept_under_a_suffix(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logs.StructuredLogger("waybill.test")
    handler = logging.StreamHandler()
    handler.setFormatter(logs.JsonFormatter())
    logger.addHandler(handler)
    logger.warning("child exited", extra={"process": "api", "created": 3, "name": "n",
                                          "code": -9})
    entry = json.loads(capsys.readouterr().err)
    assert entry["message"] == "child exited" and entry["logger"] == "waybill.test"
    assert (entry["process_"], entry["created_"], entry["name_"], entry["code"]) == (
        "api", 3, "n", -9)


def test_loggers_made_after_import_are_structured() -> None:
    assert isinstance(logging.getLogger("waybill.test.later.made"), logs.StructuredLogger)


def test_a_line_written_under_a_span_names_its_trace(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logs.StructuredLogger("waybill.test.traced")
    handler = logging.StreamHandler()
    handler.setFormatter(logs.JsonFormatter())
    logger.addHandler(handler)
    logger.info("outside")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        logger.info("inside", extra={"request_id": "r-1"})
    outside, inside = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert "trace_id" not in outside and "span_id" not in outside
    ids = span.get_span_context()
    assert (inside["trace_id"], inside["span_id"], inside["request_id"]) == (
        f"{ids.trace_id:032x}", f"{ids.span_id:016x}", "r-1")
