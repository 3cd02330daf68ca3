"""logs.py: an `extra=` key naming a LogRecord attribute is kept, not a crash."""

from __future__ import annotations

import json
import logging

import pytest

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
