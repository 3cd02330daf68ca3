"""SLA policies: parsed and validated from YAML files or admin API bodies.

A policy body is what an admin writes (ISO 8601 durations, an escalation ladder, optionally a
business calendar and exception steps); its shape is defined once, in `policies.schema`, and
`parse_policy` turns it into the `SlaPolicy` copied into each order.

- `durations`: ISO 8601 durations.
- `schema`: the body's pydantic models, their JSON Schema, the default ladder.
- `errors`: `PolicyError` and pydantic's refusals in an admin's words.
- `parse`: `parse_policy`.
- `files`: policy files, and the body as stored.
- `snapshots`: the policy on an order's row, and which policy an order takes.
"""

from policies.durations import parse_duration
from policies.errors import PolicyError
from policies.files import load_policies, load_policy_file, normalise_body
from policies.parse import parse_policy
from policies.schema import DEFAULT_LADDER, DEFAULT_LADDER_FILE, DURATION_KEYS
from policies.snapshots import from_snapshot, policy_name_for, snapshot

__all__ = [
    "DEFAULT_LADDER",
    "DEFAULT_LADDER_FILE",
    "DURATION_KEYS",
    "PolicyError",
    "from_snapshot",
    "load_policies",
    "load_policy_file",
    "normalise_body",
    "parse_duration",
    "parse_policy",
    "policy_name_for",
    "snapshot",
]
