"""The policy schema (policies/schema.py): what it refuses, in words naming the key; that the
shipped policies parse exactly as before it; and that its JSON Schema describes them.

Pure and fast: no database, no Temporal.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.app import create_app
from api.policies.router import EXAMPLE
from policies import DEFAULT_LADDER_FILE, DURATION_KEYS, PolicyError, parse_policy, snapshot
from policies.durations import format_duration, parse_duration
from policies.files import load_policies
from policies.schema import policy_json_schema
from workflows.policy import ClaimPolicy, ComplaintPolicy, FollowUpPolicy, SlaPolicy

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "policies").glob("*.yaml"))
# What the hand-written validator this schema replaced gave for the shipped files and a few
# bodies with a calendar and a ladder (dumped from that code before it went).
BASELINE = json.loads((Path(__file__).with_name("parse_baseline.json")).read_text("utf-8"))

BASE = {key: "PT1H" for key in DURATION_KEYS}
LADDER = {"repeat_every": "PT1H", "snooze_max": "PT2H", "levels": [
    {"level": 1, "recipients": ["ops_desk"], "ack_within": "PT1M", "resolve_within": "PT2M"},
    {"level": 2, "recipients": ["supervisor"], "ack_within": "PT1M", "resolve_within": "PT2M"}]}
CALENDAR = {"timezone": "Asia/Shanghai", "hours": {"mon": ["09:00-18:00"]}}


def body(**changes: Any) -> dict[str, Any]:
    """A valid body with `changes`; `escalation__x=v` / `calendar__x=v` change one key of the
    ladder or calendar, `level2__x=v` one key of the ladder's second level."""
    out: dict[str, Any] = copy.deepcopy(BASE)
    for key, value in changes.items():
        section, _, sub = key.partition("__")
        if section == "level2":
            out.setdefault("escalation", copy.deepcopy(LADDER))["levels"][1][sub] = value
        elif sub:
            out.setdefault(section, copy.deepcopy(
                {"escalation": LADDER, "calendar": CALENDAR}[section]))[sub] = value
        else:
            out[key] = value
    return out


def refusal(policy: Any) -> str:
    with pytest.raises(PolicyError) as err:
        parse_policy("std", policy, "W")
    return str(err.value)


@pytest.mark.parametrize("policy, key, what", [
    (body(confim_within="PT1H"), "confim_within",
     "unknown key (allowed: confirm_within, pick_within, scan_gap, receipt_within, survey_after,"
     " survey_window, escalation, calendar, decision_within, claims, complaints, follow_up, "
     "catch_up_grace, pauses_excluded_from_on_time)"),
    ({k: v for k, v in BASE.items() if k != "scan_gap"}, "scan_gap", "missing"),
    (body(confirm_within="soon"), "confirm_within",
     "'soon' is not an ISO 8601 duration like PT24H, P7D or PT2S"),
    (body(confirm_within=3), "confirm_within", "3 is not an ISO 8601 duration"),
    (body(pick_within="P1M"), "pick_within", "'P1M' is not an ISO 8601 duration"),
    (body(scan_gap="PT0S"), "scan_gap", "'PT0S' must be longer than zero"),
    (body(decision_within=None), "decision_within", "None is not an ISO 8601 duration"),
    (body(catch_up_grace="PT0M"), "catch_up_grace", "must be longer than zero"),
    (body(escalation=None), "escalation", "expected a mapping"),
    (body(escalation__foo=1), "escalation.foo", "unknown key (allowed: levels, repeat_every, "
     "snooze_max, start_level, key_account_start_level)"),
    (body(escalation__levels=[]), "escalation.levels", "expected a non-empty list"),
    (body(escalation__repeat_every="x"), "escalation.repeat_every", "'x' is not an ISO 8601"),
    (body(level2__level=3), "escalation.levels[2].level",
     "levels must be numbered 1, 2, 3... in order"),
    (body(level2__level="2"), "escalation.levels[2].level", "expected a whole number, not '2'"),
    (body(level2__level=True), "escalation.levels[2].level", "expected a whole number"),
    (body(level2__who="x"), "escalation.levels[2].who",
     "unknown key (allowed: level, recipients, ack_within, resolve_within)"),
    (body(level2__recipients=[]), "escalation.levels[2].recipients",
     "expected a non-empty list"),
    (body(level2__recipients=["a", " "]), "escalation.levels[2].recipients[2]",
     "expected a team or role name, not ' '"),
    (body(level2__ack_within="PT0M"), "escalation.levels[2].ack_within",
     "must be longer than zero"),
    (body(escalation__start_level=3), "escalation.start_level", "must be a level from 1 to 2"),
    (body(escalation__start_level=0), "escalation.start_level", "0 is not allowed here"),
    (body(escalation__key_account_start_level=5), "escalation.key_account_start_level",
     "must be a level from 1 to 2"),
    (body(calendar=[1]), "calendar", "expected a mapping"),
    (body(calendar__timezone="Mars/Olympus"), "calendar.timezone",
     "unknown time zone 'Mars/Olympus'"),
    (body(calendar__timezone=5), "calendar.timezone", "expected text, not 5"),
    (body(calendar__hours={"monday": ["09:00-18:00"]}), "calendar.hours.monday",
     "unknown key (allowed: mon, tue, wed, thu, fri, sat, sun)"),
    (body(calendar__hours={"mon": ["18:00-09:00"]}), "calendar.hours.mon[1]",
     "'18:00-09:00' is not a span like 09:00-18:00"),
    (body(calendar__hours={"mon": ["09:00-09:00"]}), "calendar.hours.mon[1]", "not a span"),
    (body(calendar__hours={"mon": ["00:00-24:30"]}), "calendar.hours.mon[1]", "not a span"),
    (body(calendar__hours={"mon": "09:00-18:00"}), "calendar.hours.mon", "expected a list"),
    (body(calendar__hours={"mon": [], "sun": None}), "calendar.hours",
     "no working hours on any day"),
    (body(calendar__holidays=["2026-13-01"]), "calendar.holidays[1]",
     "'2026-13-01' is not a date like 2026-10-01"),
    (body(calendar__holidays=[20261001]), "calendar.holidays[1]", "20261001 is not a date"),
    (body(claims={"currency": "yuan"}), "claims.currency",
     "'yuan' is not allowed here (ISO 4217 code: three capital letters, e.g. CNY)"),
    (body(claims={"currency": "cny"}), "claims.currency", "'cny' is not allowed here"),
    (body(claims={"cap_per_kg_minor": -1}), "claims.cap_per_kg_minor",
     "-1 is not allowed here (at least 0)"),
    (body(claims={"cap_per_kg_minor": "100"}), "claims.cap_per_kg_minor",
     "expected a whole number, not '100'"),
    (body(claims={"pay_within": "P1D"}), "claims.pay_within", "unknown key (allowed: "
     "contact_within, evidence_within, liability_within, compensation_within, payout_within, "
     "currency, cap_per_kg_minor)"),
    (body(claims=None), "claims", "expected a mapping"),
    (body(complaints={"low_score_max": 6}), "complaints.low_score_max",
     "6 is not allowed here (from 0 to 5)"),
    (body(complaints={"low_score_max": -1}), "complaints.low_score_max", "from 0 to 5"),
    (body(follow_up={"call_retries": 11}), "follow_up.call_retries",
     "11 is not allowed here (from 0 to 10)"),
    (body(follow_up={"call_retries": -1}), "follow_up.call_retries", "from 0 to 10"),
    (body(follow_up={"call_retry_after": "soon"}), "follow_up.call_retry_after",
     "'soon' is not an ISO 8601 duration"),
    (body(follow_up=[1, 2]), "follow_up", "expected a mapping"),
])
def test_a_refusal_names_the_key_and_what_is_allowed(policy: Any, key: str, what: str) -> None:
    message = refusal(policy)
    assert message.startswith(f"W: policy 'std': key '{key}': ") and what in message, message


@pytest.mark.parametrize("policy", [[1, 2], "PT1H", None, 3])
def test_a_body_that_is_not_a_mapping_is_refused(policy: Any) -> None:
    assert refusal(policy) == ("W: policy 'std': expected a mapping of keys to durations: "
                               "expected a mapping")


def test_every_fault_is_named_a_misspelt_key_first_and_the_list_is_bounded() -> None:
    message = refusal({"confim_within": "PT1H"})
    assert message.startswith("W: policy 'std': key 'confim_within': unknown key")
    assert "key 'confirm_within': missing; key 'pick_within': missing" in message
    assert message.endswith("(and 2 more)")  # 7 faults: 5 named


@pytest.mark.parametrize("policy, key, allowed", [
    ({**BASE, **yaml.safe_load("1: PT1H")}, "1", "confirm_within, pick_within"),
    (body(calendar__hours=yaml.safe_load("null: ['09:00-18:00']")), "calendar.hours.None",
     "mon, tue"),
])
def test_a_key_yaml_reads_as_no_string_is_an_unknown_key(policy: Any, key: str,
                                                        allowed: str) -> None:
    assert f"key '{key}': unknown key (allowed: {allowed}" in refusal(policy)


def test_a_long_value_is_quoted_cut_short() -> None:
    message = refusal(body(confirm_within="P" * 10_000))
    assert "'PPP" in message and "..." in message and len(message) < 200


@pytest.mark.parametrize("policy", [
    body(level2__level=True), body(escalation__start_level=True),
    body(claims={"cap_per_kg_minor": True}), body(calendar__holidays=[20261001]),
    body(calendar__hours={"mon": ["00:00-24:30"]}),
])
def test_what_the_old_validator_let_through_by_accident_is_refused(policy: Any) -> None:
    """`True == 1` passed its number checks; str() of an int passed as a date (20261001);
    its span pattern let a day end at 24:30, which workflows/calendar.py cannot read."""
    refusal(policy)


@pytest.mark.parametrize("name", ["default.yaml", "demo.yaml"])
def test_shipped_files_parse_as_they_did_before_the_schema(name: str) -> None:
    parsed = {key: snapshot(policy) for key, policy in load_policies(ROOT / "policies" / name)
              .items()}
    assert parsed == BASELINE["files"][f"policies/{name}"]


@pytest.mark.parametrize("name", sorted(BASELINE["bodies"]))
def test_bodies_with_calendar_ladder_and_sections_parse_as_before(name: str) -> None:
    case = BASELINE["bodies"][name]
    assert snapshot(parse_policy(name, case["body"], "test", version="7")) == case["parsed"]


def test_a_calendar_keeps_the_days_given_and_null_is_no_hours() -> None:
    cal = parse_policy("std", body(calendar__hours={"sun": None, "mon": ["09:00-18:00"]}),
                       "W").calendar
    assert cal is not None and cal.hours == {"mon": ["09:00-18:00"], "sun": []}
    assert parse_policy("std", body(calendar={}), "W").calendar is None


def _keys(value: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every key in a body; list items as `[]`."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in {f"{prefix}{k}"} | _keys(v, f"{prefix}{k}.")}
    if isinstance(value, list):
        return {p for item in value for p in _keys(item, f"{prefix.rstrip('.')}[].")}
    return set()


def _schema_keys(schema: dict[str, Any], node: dict[str, Any], prefix: str = "") -> set[str]:
    """Dotted paths of every property the schema describes."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    found: set[str] = set()
    for option in node.get("anyOf", []):
        found |= _schema_keys(schema, option, prefix)
    if "items" in node:
        found |= _schema_keys(schema, node["items"], f"{prefix.rstrip('.')}[].")
    for key, sub in node.get("properties", {}).items():
        found |= {f"{prefix}{key}"} | _schema_keys(schema, sub, f"{prefix}{key}.")
    return found


def test_the_json_schema_describes_every_key_the_shipped_policies_use() -> None:
    schema = policy_json_schema()
    described = _schema_keys(schema, schema)
    used = {key for path in SHIPPED if path != DEFAULT_LADDER_FILE
            for policy in yaml.safe_load(path.read_text("utf-8"))["policies"].values()
            for key in _keys(policy)}
    used |= _keys({"escalation": yaml.safe_load(DEFAULT_LADDER_FILE.read_text("utf-8"))})
    used |= _keys(body(calendar={**CALENDAR, "holidays": ["2026-10-01"]}))
    assert len(used) > 30, "too few keys found: has the files' layout changed?"
    assert sorted(used - described) == []
    assert tuple(schema["required"]) == DURATION_KEYS


def test_the_json_schema_refuses_unknown_keys_everywhere() -> None:
    schema = policy_json_schema()
    for node in [schema, *schema["$defs"].values()]:
        assert node["additionalProperties"] is False, node["title"]


@pytest.mark.parametrize("section, cls", [
    ("claims", ClaimPolicy), ("complaints", ComplaintPolicy), ("follow_up", FollowUpPolicy)])
def test_the_schema_shows_the_workflow_types_defaults(section: str, cls: type) -> None:
    """Defaults live once, in workflows/policy.py; the schema shows them as an admin writes."""
    schema = policy_json_schema()
    props = schema["$defs"][schema["properties"][section]["$ref"].rsplit("/", 1)[-1]][
        "properties"]
    for key, value in asdict(cls()).items():
        shown = props[key]["default"]
        assert (parse_duration(shown) if isinstance(shown, str) and shown.startswith("P")
                else shown) == value, key
    top = schema["properties"]
    assert parse_duration(top["catch_up_grace"]["default"]) == SlaPolicy.catch_up_grace
    assert parse_duration(top["decision_within"]["default"]) == SlaPolicy.decision_within


@pytest.mark.parametrize("seconds, text", [
    (600, "PT10M"), (86400, "P1D"), (14400, "PT4H"), (90061, "P1DT1H1M1S"), (2, "PT2S")])
def test_format_duration_is_parse_durations_inverse(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text and parse_duration(text) == seconds


def test_openapi_describes_the_policy_body_and_its_example_is_valid() -> None:
    doc = create_app().openapi()
    media = doc["paths"]["/v1/sla-policies/{name}"]["put"]["requestBody"]["content"]
    schema = media["application/json"]["schema"]
    assert schema["$ref"] == "#/components/schemas/PolicyBody"
    assert schema["examples"] == [EXAMPLE]
    body = doc["components"]["schemas"]["PolicyBody"]
    assert {"confirm_within", "escalation", "calendar"} <= set(body["properties"])
    parse_policy("example", EXAMPLE, "api example")  # the documented example is a valid policy
