"""SLA policy files: durations, tier choice, and start-up errors that name file, policy and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import DEFAULT_POLICY_FILE
from policies import PolicyError, load_policies, parse_duration, policy_name_for
from tests.support.builders import policy_yaml
from workflows.order.types import Tier


@pytest.mark.parametrize("text, seconds", [
    ("PT2S", 2), ("PT24H", 86400), ("P7D", 7 * 86400), ("P1DT12H", 129600), ("PT1M30S", 90),
    ("P1W", 7 * 86400), ("PT0.5S", 0.5),
])
def test_iso_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["24h", "P", "PT", "P1M", "P1Y", "PT0S", "-PT1H", ""])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_default_file_has_the_domain_numbers() -> None:
    policies = load_policies(DEFAULT_POLICY_FILE)
    std, key = policies["standard"], policies["key_account"]
    assert std.confirm_within == 24 * 3600 and key.confirm_within == 4 * 3600
    assert std.scan_gap == 12 * 3600 and key.scan_gap == 6 * 3600
    assert std.receipt_within == 7 * 86400 and key.receipt_within == 3 * 86400
    assert std.survey_after == 86400 and std.survey_window == 3 * 86400
    assert [lvl.level for lvl in std.escalation.levels] == [1, 2, 3]
    assert key.escalation.key_account_start_level == 2


def test_policy_is_chosen_by_name_then_by_tier() -> None:
    assert policy_name_for(None, Tier.KEY_ACCOUNT) == ["key_account", "standard"]
    assert policy_name_for("standard", Tier.KEY_ACCOUNT) == ["standard"]


@pytest.mark.parametrize("body, fragments", [
    (policy_yaml(confirm_within="soon"), ["standard", "confirm_within", "soon"]),
    (policy_yaml() + "    escalation: {levels: [], repeat_every: PT1H, snooze_max: PT1H}\n",
     ["standard", "escalation", "levels"]),
    (policy_yaml() + "    calendar: {timezone: Mars/Olympus, hours: {mon: ['09:00-18:00']}}\n",
     ["standard", "calendar", "timezone"]),
    (policy_yaml() + "    calendar: {timezone: UTC, hours: {mon: ['18:00-09:00']}}\n",
     ["standard", "hours.mon"]),
    ("policies:\n  fast:\n    confirm_within: PT1H\n", ["fast", "pick_within", "missing"]),
    ("policies:\n  fast:\n    confim_within: PT1H\n", ["fast", "confim_within", "unknown"]),
    ("nothing: here\n", ["policies"]),
    ("policies: [\n", ["YAML"]),
])
def test_bad_file_names_file_policy_and_key(tmp_path: Path, body: str,
                                            fragments: list[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(PolicyError) as err:
        load_policies(path)
    assert str(path) in str(err.value)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policies(tmp_path / "absent.yaml")


def test_sections_for_exceptions_are_parsed_with_defaults_for_what_is_left_out(
        tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(policy_yaml() + "    decision_within: PT2H\n"
                    "    claims: {contact_within: PT1H, currency: USD}\n"
                    "    follow_up: {call_retries: 0}\n")
    policy = load_policies(path)["standard"]
    assert policy.decision_within == 7200
    assert (policy.claims.contact_within, policy.claims.currency) == (3600, "USD")
    assert policy.claims.payout_within == 5 * 86400  # not given: the default
    assert policy.follow_up.call_retries == 0
    assert policy.complaints.low_score_max == 2


def test_key_accounts_get_tighter_exception_deadlines() -> None:
    policies = load_policies(DEFAULT_POLICY_FILE)
    standard, key = policies["standard"], policies["key_account"]
    assert key.decision_within < standard.decision_within
    assert key.claims.contact_within < standard.claims.contact_within
    assert key.complaints.first_reply_within < standard.complaints.first_reply_within


@pytest.mark.parametrize("section, message", [
    ("claims: {currency: yuan}", "'claims.currency'"),
    ("claims: {pay_within: P1D}", "unknown key"),
    ("complaints: {low_score_max: 9}", "'complaints.low_score_max'"),
    ("follow_up: {call_retry_after: soon}", "'follow_up.call_retry_after'"),
    ("follow_up: [1, 2]", "expected a mapping"),
])
def test_bad_sections_name_the_key(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(policy_yaml() + f"    {section}\n")
    with pytest.raises(PolicyError, match=message):
        load_policies(path)
