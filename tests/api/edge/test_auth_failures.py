"""Failed-authentication throttling and its log line, as pure rules (a fake clock); the HTTP side
is in tests/api/test_auth.py."""

from __future__ import annotations

import logging

import pytest

from api.edge.access_log import loggable_path
from api.edge.auth_failures import AuthFailures, key_hint


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_refused_after_the_limit_until_its_oldest_failure_leaves_the_window(
) -> None:
    clock = Clock()
    failures = AuthFailures(3, clock)
    for step in range(3):
        assert failures.retry_after("10.0.0.7") is None
        failures.record("10.0.0.7", "unknown", "wb_guess", via="api")
        clock.now += 10 if step < 2 else 0
    assert failures.retry_after("10.0.0.7") == 40  # the first failure, at 1000, leaves at 1060
    assert failures.retry_after("10.0.0.8") is None  # other addresses are not affected
    clock.now = 1060.5
    assert failures.retry_after("10.0.0.7") is None


def test_the_log_line_names_the_address_and_reason_and_never_the_key(
        caplog: pytest.LogCaptureFixture) -> None:
    key = "wb_" + "S3cretS3cretS3cretS3cret"
    with caplog.at_level(logging.WARNING, logger="waybill.auth"):
        AuthFailures(20).record("192.0.2.1", "revoked", key, via="console")
    [record] = caplog.records
    assert record.client == "192.0.2.1" and record.reason == "revoked"  # type: ignore[attr-defined]
    assert record.key_prefix == "wb_S3c" and record.via == "console"  # type: ignore[attr-defined]
    assert "S3cretS3cret" not in repr(record.__dict__)


def test_key_hint_is_at_most_six_characters() -> None:
    assert key_hint(None) is None
    assert key_hint("abc") == "abc"
    assert key_hint("wb_0123456789") == "wb_012"


def test_the_access_log_masks_survey_tokens() -> None:
    assert loggable_path("/s/eyJhbGciOi.secret") == "/s/<token>"
    assert loggable_path("/v1/orders/SO-1") == "/v1/orders/SO-1"
