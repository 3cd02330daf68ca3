"""ISO 8601 durations as an admin writes them in a policy (`PT24H`, `P7D`, `PT2S`)."""

from __future__ import annotations

import re
from typing import Any

# Without years or months, whose length in seconds depends on the calendar.
# Plain groups (weeks, days, hours, minutes, seconds): JSON Schema's regexes have no names.
DURATION_PATTERN = r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
_DURATION = re.compile(DURATION_PATTERN)


def parse_duration(text: Any) -> float:
    """Seconds in an ISO 8601 duration such as `PT24H`, `P7D` or `PT2S`.

    Raises:
        ValueError: not such a duration (a number or `P1M` neither), or not longer than zero.
    """
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration like PT24H, P7D or PT2S")
    weeks, days, hours, minutes, secs = (float(v) if v else 0.0 for v in match.groups())
    seconds = weeks * 7 * 86400 + days * 86400 + hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """The ISO 8601 text of a whole number of seconds, e.g. 14400 -> `PT4H` (for documents:
    the schema shows the workflow types' defaults as an admin would write them)."""
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "")
