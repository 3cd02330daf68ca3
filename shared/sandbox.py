"""How workflow code runs in the SDK's sandbox, for the worker and every replayer alike.

The sandbox loads a fresh copy of each module it does not pass through for every workflow run:
Waybill's own packages were imported again at every order, claim and delivery started (a tenth
of the worker's CPU under load, py-spy). They pass through: they keep no state in module
globals, workflow code reads time and randomness only through `workflow.*`, and every
committed history replays in CI, which is the determinism the re-import was guarding.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

WAYBILL_PACKAGES = ("workflows", "activities", "db", "shared", "policies", "kpis", "config",
                    "observability", "schedules")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*WAYBILL_PACKAGES))
