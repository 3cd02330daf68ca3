"""The carrier feeds' counter: every carrier event (or refused push) by feed and outcome."""

from __future__ import annotations

from prometheus_client import Counter

CARRIER_PUSHES = Counter(
    "waybill_carrier_pushes",
    "Carrier events received, by feed (kuaidi100, generic) and outcome: applied, duplicate, "
    "refused, unroutable; and refused pushes: bad_signature, invalid, not_configured, "
    "unavailable", ["feed", "outcome"])


def counted(feed: str, outcome: str) -> None:
    CARRIER_PUSHES.labels(feed=feed, outcome=outcome).inc()
