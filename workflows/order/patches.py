"""The order workflow's patch ids: each names a change to the commands it issues, so histories
recorded before it replay without it (`workflow.patched`)."""

from __future__ import annotations

from datetime import timedelta

from workflows.read_model import LEAN_PROJECTION_PATCH

__all__ = ["CATCH_UP_LAG", "CATCH_UP_PATCH", "EXCEPTIONS_PATCH", "LEAN_PATCH",
           "LEAN_PROJECTION_PATCH"]

# Orders started before claims, complaints, shortages and survey reminders existed replay
# without them: every behaviour that issues new commands checks this patch.
EXCEPTIONS_PATCH = "exceptions-and-after-delivery"
CATCH_UP_PATCH = "catch-up-grace"  # deadlines past before Waybill heard of them wait a grace
# One alarm per wake-up time instead of a timer started and cancelled at every event, and the
# stage search attribute written once per change: a third fewer history events per order.
LEAN_PATCH = "lean-timers-and-attributes"
# LEAN_PROJECTION_PATCH (workflows/read_model.py): the whole state in every projection's payload
# grew the history with the square of the scans (4.6 MB at 200); under it projections run as
# local activities, and a search attribute is written only when its value changes.
# Sent this long after it happened, an order or event is a system catching up on a backlog
# (live ones arrive within seconds): only then do deadlines already past wait the grace, so a
# live event racing a deadline's own timer never postpones its breach.
CATCH_UP_LAG = timedelta(minutes=1)
