"""Every metric Waybill counts as things happen, in the process's default registry.

The metrics computed from the database at scrape time are in database.py; both name lists
are what deploy/ (dashboard, alert rules) may use (tests/observability/test_deploy_names.py).
Label values are bounded: event types, error codes, channels, outcomes, route templates.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

EVENTS_ACCEPTED = Counter(
    "waybill_events_accepted", "Order events accepted (duplicate: a repeat of an applied event)",
    ["type", "duplicate"])
EVENTS_REFUSED = Counter(
    "waybill_events_refused", "Order events refused, by the error code answered",
    ["type", "code"])
EVENT_ACCEPT_SECONDS = Histogram(
    "waybill_event_accept_seconds",
    "From an order event reaching the service to its accepted answer (Temporal update included)",
    ["type"],
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0))

DELIVERY_ATTEMPTS = Counter(
    "waybill_delivery_attempts",
    "Notification delivery attempts by channel (webhook, email, inbox) and outcome: delivered, "
    "retry (not accepted, tried again later) or failed (no more attempts)",
    ["channel", "outcome"])

DB_POOL_TIMEOUTS = Counter(
    "waybill_db_pool_timeouts",
    "Requests for a database connection that waited the whole pool timeout and got none")

HTTP_REQUESTS = Counter(
    "waybill_http_requests", "HTTP requests by method, route template and status",
    ["method", "route", "status"])
HTTP_REQUEST_SECONDS = Histogram(
    "waybill_http_request_seconds", "HTTP request duration by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 30.0))

CARRIER_PUSHES = Counter(
    "waybill_carrier_pushes",
    "Carrier events received (api/feeds/), by feed (kuaidi100, generic) and outcome: applied, "
    "duplicate, refused, unroutable; and refused pushes: bad_signature, invalid, "
    "not_configured, unavailable", ["feed", "outcome"])

# The names as scraped (a counter gains `_total`; a histogram `_bucket`, `_sum`, `_count`).
COUNTED = ("waybill_events_accepted_total", "waybill_events_refused_total",
           "waybill_event_accept_seconds", "waybill_delivery_attempts_total",
           "waybill_db_pool_timeouts_total", "waybill_http_requests_total",
           "waybill_http_request_seconds", "waybill_carrier_pushes_total")


def carrier_push(feed: str, outcome: str) -> None:
    CARRIER_PUSHES.labels(feed=feed, outcome=outcome).inc()


def delivery_attempt(channel: str, outcome: str) -> None:
    DELIVERY_ATTEMPTS.labels(channel=channel, outcome=outcome).inc()


def refusal_code(exc: BaseException) -> str:
    """The machine-readable code a refusal answers with (ApiError's `code`), else the
    exception's class name (a Temporal or database outage mapped to a 503 by the API)."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


@contextmanager
def event_outcome(event_type: str) -> Iterator[EventOutcome]:
    """Count one order event: accepted, with its latency, when the block returns (having set
    `duplicate`); refused, with its code, when the block raises."""
    outcome = EventOutcome()
    started = time.perf_counter()
    try:
        yield outcome
    except BaseException as exc:
        EVENTS_REFUSED.labels(type=event_type, code=refusal_code(exc)).inc()
        raise
    EVENT_ACCEPT_SECONDS.labels(type=event_type).observe(time.perf_counter() - started)
    EVENTS_ACCEPTED.labels(type=event_type, duplicate=str(outcome.duplicate).lower()).inc()


class EventOutcome:
    """What the counted block learnt: whether the event was a repeat of one applied before."""

    duplicate: bool = False
