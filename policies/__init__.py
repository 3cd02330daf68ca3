"""SLA policies: loaded from a YAML file, validated, and copied into each order at start."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from pathlib import Path

import yaml

from workflows.types import SlaPolicy, Tier

DURATION_KEYS = ("confirm_within", "pick_within", "scan_gap", "receipt_within", "survey_after",
                 "survey_window")

# ISO 8601 durations without years or months, whose length in seconds depends on the calendar.
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the policy and the key."""


def parse_duration(text: str) -> float:
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


def _version(name: str, durations: dict[str, float]) -> str:
    canonical = json.dumps({"name": name, **durations}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def load_policies(path: Path) -> dict[str, SlaPolicy]:
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read SLA policy file: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("policies"), dict) \
            or not doc["policies"]:
        raise PolicyError(f"{path}: expected a top-level 'policies:' mapping of names to policies")
    out: dict[str, SlaPolicy] = {}
    for name, body in doc["policies"].items():
        where = f"{path}: policy {name!r}"
        if not isinstance(body, dict):
            raise PolicyError(f"{where}: expected a mapping of keys to durations")
        unknown = sorted(set(body) - set(DURATION_KEYS))
        if unknown:
            raise PolicyError(f"{where}: key {unknown[0]!r}: unknown key "
                              f"(allowed: {', '.join(DURATION_KEYS)})")
        durations: dict[str, float] = {}
        for key in DURATION_KEYS:
            if key not in body:
                raise PolicyError(f"{where}: key {key!r}: missing")
            try:
                durations[key] = parse_duration(body[key])
            except ValueError as exc:
                raise PolicyError(f"{where}: key {key!r}: {exc}") from exc
        out[str(name)] = SlaPolicy(name=str(name), version=_version(str(name), durations),
                                   **durations)
    return out


def choose_policy(policies: dict[str, SlaPolicy], requested: str | None,
                  tier: Tier) -> SlaPolicy | None:
    """The named policy, else the one named after the customer's tier, else `standard`."""
    if requested is not None:
        return policies.get(requested)
    return policies.get(tier.value) or policies.get(Tier.STANDARD.value)


def policy_dict(policy: SlaPolicy) -> dict[str, object]:
    return asdict(policy)
