"""Policy files: the YAML a deployment ships (WAYBILL_SLA_POLICIES), read and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from policies.errors import PolicyError
from policies.parse import parse_policy
from workflows.policy import SlaPolicy


def normalise_body(body: dict[str, Any]) -> dict[str, Any]:
    """The body as stored: YAML dates become ISO strings so it is plain JSON."""
    out = dict(body)
    if isinstance(out.get("calendar"), dict):
        cal = dict(out["calendar"])
        cal["holidays"] = [str(h) for h in cal.get("holidays") or []]
        if "working_days" in cal:  # only when written: a body without it is stored as before
            cal["working_days"] = [str(d) for d in cal["working_days"] or []]
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
