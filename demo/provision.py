"""What the demo needs in the database before its traffic starts: its SLA policies and its key.

Run on the machine whose database the API uses (`waybill dev` with WAYBILL_DEMO on, or
`waybill demo` without --key). The demo policies have names of their own, so the orders that
name them get minute-scale deadlines and no other order's policy changes.
"""

from __future__ import annotations

from pathlib import Path

from config import REPO_ROOT
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.policies.queries import seed_from_file
from demo.traffic import DEMO_POLICIES
from policies import PolicyError, load_policy_file

DEMO_POLICY_FILE = REPO_ROOT / "policies" / "demo.yaml"
KEY_NAME = "demo-traffic"  # the actor of every event the demo posts


def provision(db_url: str, policy_file: Path = DEMO_POLICY_FILE) -> str:
    """Seed the demo policies (a new version only when the file changed) and create the demo's
    key; returns the key. An operator key: besides the integrations' events the demo makes the
    desk's decisions (cancellations, the customer's shortage choice), which integration keys may
    not send (api/permissions.py)."""
    bodies = load_policy_file(policy_file)
    missing = sorted(set(DEMO_POLICIES.values()) - set(bodies))
    if missing:
        raise PolicyError(f"{policy_file}: the demo needs a policy named {missing[0]!r}")
    engine = make_engine(db_url)
    try:
        with transaction(session_factory(engine)) as session:
            seed_from_file(session, bodies, str(policy_file))
            _, key = create_key(session, KEY_NAME, "operator")
    finally:
        engine.dispose()
    return key
