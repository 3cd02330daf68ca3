"""SLA policies: parsed and validated from YAML files or admin API bodies.

A policy body is what an admin writes (ISO 8601 durations, an escalation ladder, optionally a
business calendar); `parse_policy` turns it into the `SlaPolicy` copied into each order.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import TypeAdapter

from workflows.order.types import Tier
from workflows.policy import (
    BusinessCalendar,
    ClaimPolicy,
    ComplaintPolicy,
    EscalationPolicy,
    FollowUpPolicy,
    LadderLevel,
    SlaPolicy,
)

DURATION_KEYS = ("confirm_within", "pick_within", "scan_gap", "receipt_within", "survey_after",
                 "survey_window")
OPTIONAL_KEYS = ("escalation", "calendar", "decision_within", "claims", "complaints",
                 "follow_up", "catch_up_grace")
# Optional sections: their duration keys and their other keys with a check of each value.
_SECTIONS: dict[str, tuple[type, tuple[str, ...], dict[str, Any]]] = {
    "claims": (ClaimPolicy, ("contact_within", "evidence_within", "liability_within",
                             "compensation_within", "payout_within"),
               {"currency": lambda v: isinstance(v, str) and re.fullmatch(r"[A-Z]{3}", v),
                "cap_per_kg_minor": lambda v: isinstance(v, int) and v >= 0}),
    "complaints": (ComplaintPolicy, ("route_within", "first_reply_within", "resolve_within",
                                     "satisfaction_within"),
                   {"low_score_max": lambda v: isinstance(v, int) and 0 <= v <= 5}),
    "follow_up": (FollowUpPolicy, ("call_retry_after",),
                  {"call_retries": lambda v: isinstance(v, int) and 0 <= v <= 10}),
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Used when a policy names no ladder; written once, in the YAML next to the shipped policies.
DEFAULT_LADDER_FILE = Path(__file__).with_name("default_ladder.yaml")
DEFAULT_LADDER: dict[str, Any] = yaml.safe_load(DEFAULT_LADDER_FILE.read_text(encoding="utf-8"))

# ISO 8601 durations without years or months, whose length in seconds depends on the calendar.
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file, the policy and the key."""


def parse_duration(text: Any) -> float:
    """Seconds in an ISO 8601 duration such as `PT24H`, `P7D` or `PT2S`."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration like PT24H, P7D or PT2S")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    seconds = (parts["w"] * 7 * 86400 + parts["d"] * 86400 + parts["h"] * 3600
               + parts["m"] * 60 + parts["s"])
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return seconds


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: expected a mapping")
    return value


def _keys(body: dict[str, Any], allowed: tuple[str, ...], required: tuple[str, ...],
          where: str) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise PolicyError(f"{where}: key {unknown[0]!r}: unknown key (allowed: "
                          f"{', '.join(allowed)})")
    for key in required:
        if key not in body:
            raise PolicyError(f"{where}: key {key!r}: missing")


def _duration(body: dict[str, Any], key: str, where: str) -> float:
    try:
        return parse_duration(body[key])
    except ValueError as exc:
        raise PolicyError(f"{where}: key {key!r}: {exc}") from exc


def _ladder(body: Any, where: str) -> EscalationPolicy:
    where = f"{where}: key 'escalation'"
    body = _mapping(body, where)
    _keys(body, ("levels", "repeat_every", "snooze_max", "start_level",
                 "key_account_start_level"), ("levels", "repeat_every", "snooze_max"), where)
    raw_levels = body["levels"]
    if not isinstance(raw_levels, list) or not raw_levels:
        raise PolicyError(f"{where}: key 'levels': expected a non-empty list")
    levels = []
    for i, raw in enumerate(raw_levels, start=1):
        at = f"{where}: levels[{i}]"
        raw = _mapping(raw, at)
        _keys(raw, ("level", "recipients", "ack_within", "resolve_within"),
              ("level", "recipients", "ack_within", "resolve_within"), at)
        if raw["level"] != i:
            raise PolicyError(f"{at}: key 'level': levels must be numbered 1, 2, 3... in order")
        recipients = raw["recipients"]
        if not isinstance(recipients, list) or not recipients or not all(
                isinstance(r, str) and r.strip() for r in recipients):
            raise PolicyError(f"{at}: key 'recipients': expected a list of team or role names")
        levels.append(LadderLevel(level=i, recipients=[r.strip() for r in recipients],
                                  ack_within=_duration(raw, "ack_within", at),
                                  resolve_within=_duration(raw, "resolve_within", at)))
    starts = {}
    for key in ("start_level", "key_account_start_level"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= len(levels)):
            raise PolicyError(f"{where}: key {key!r}: must be a level from 1 to {len(levels)}")
        starts[key] = value
    return EscalationPolicy(levels=levels, repeat_every=_duration(body, "repeat_every", where),
                            snooze_max=_duration(body, "snooze_max", where),
                            start_level=starts["start_level"] or 1,
                            key_account_start_level=starts["key_account_start_level"])


def _calendar(body: Any, where: str) -> BusinessCalendar:
    where = f"{where}: key 'calendar'"
    body = _mapping(body, where)
    _keys(body, ("timezone", "hours", "holidays"), ("timezone", "hours"), where)
    try:
        ZoneInfo(str(body["timezone"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(f"{where}: key 'timezone': unknown time zone "
                          f"{body['timezone']!r}") from exc
    hours = _mapping(body["hours"], f"{where}: key 'hours'")
    bad_days = sorted(set(hours) - set(WEEKDAYS))
    if bad_days:
        raise PolicyError(f"{where}: key 'hours': {bad_days[0]!r} is not one of "
                          f"{', '.join(WEEKDAYS)}")
    clean: dict[str, list[str]] = {}
    for day, spans in hours.items():
        spans = spans or []
        if not isinstance(spans, list):
            raise PolicyError(f"{where}: key 'hours.{day}': expected a list like ['09:00-18:00']")
        for span in spans:
            m = _HOURS.match(str(span))
            if not m or (m[1], m[2]) >= (m[3], m[4]):
                raise PolicyError(f"{where}: key 'hours.{day}': {span!r} is not a span like "
                                  "09:00-18:00")
        clean[day] = [str(span) for span in spans]
    if not any(clean.values()):
        raise PolicyError(f"{where}: key 'hours': no working hours on any day")
    holidays = []
    for value in body.get("holidays") or []:
        try:
            holidays.append(date.fromisoformat(str(value)).isoformat())
        except ValueError as exc:
            raise PolicyError(f"{where}: key 'holidays': {value!r} is not a date "
                              "like 2026-10-01") from exc
    return BusinessCalendar(timezone=str(body["timezone"]), hours=clean, holidays=holidays)


def _section(name: str, body: Any, where: str) -> Any:
    cls, durations, checks = _SECTIONS[name]
    where = f"{where}: key {name!r}"
    body = _mapping(body, where)
    _keys(body, durations + tuple(checks), (), where)
    values: dict[str, Any] = {key: _duration(body, key, where) for key in durations if key in body}
    for key, check in checks.items():
        if key in body:
            if not check(body[key]):
                raise PolicyError(f"{where}: key {key!r}: {body[key]!r} is not allowed here")
            values[key] = body[key]
    return cls(**values)


def parse_policy(name: str, body: Any, where: str, version: str = "") -> SlaPolicy:
    """Validate one policy body; `where` prefixes every error (e.g. the file's path)."""
    where = f"{where}: policy {name!r}"
    body = _mapping(body, f"{where}: expected a mapping of keys to durations")
    _keys(body, DURATION_KEYS + OPTIONAL_KEYS, DURATION_KEYS, where)
    durations = {key: _duration(body, key, where) for key in DURATION_KEYS}
    ladder = _ladder(body.get("escalation", DEFAULT_LADDER), where)
    calendar = _calendar(body["calendar"], where) if body.get("calendar") else None
    extra: dict[str, Any] = {key: _section(key, body[key], where)
                             for key in _SECTIONS if key in body}
    for key in ("decision_within", "catch_up_grace"):
        if key in body:
            extra[key] = _duration(body, key, where)
    return SlaPolicy(name=name, version=version, escalation=ladder, calendar=calendar,
                     **durations, **extra)


def normalise_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body as stored: YAML dates become ISO strings so it is plain JSON."""
    out = dict(body)
    if isinstance(out.get("calendar"), dict):
        cal = dict(out["calendar"])
        cal["holidays"] = [str(h) for h in cal.get("holidays") or []]
        out["calendar"] = cal
    return out


def load_policy_file(path: Path) -> dict[str, dict[str, Any]]:
    """Read a policy file and validate every policy in it; return the bodies by name."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read SLA policy file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("policies"), dict) \
            or not doc["policies"]:
        raise PolicyError(f"{path}: expected a top-level 'policies:' mapping of names to policies")
    bodies = {}
    for name, body in doc["policies"].items():
        parse_policy(str(name), body, str(path))
        bodies[str(name)] = normalise_body(body)
    return bodies


def load_policies(path: Path) -> dict[str, SlaPolicy]:
    return {name: parse_policy(name, body, str(path))
            for name, body in load_policy_file(path).items()}


def policy_name_for(requested: str | None, tier: Tier) -> list[str]:
    """Names to try, in order: the one asked for, else the tier's, else `standard`."""
    if requested is not None:
        return [requested]
    return [tier.value, Tier.STANDARD.value]


_SNAPSHOT = TypeAdapter(SlaPolicy)


def snapshot(policy: SlaPolicy) -> dict[str, Any]:
    """The policy as plain JSON, as copied onto the order row."""
    return asdict(policy)


def from_snapshot(data: dict[str, Any]) -> SlaPolicy:
    return _SNAPSHOT.validate_python(data)
