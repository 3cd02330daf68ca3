"""Rules written once: the stage groups, the rejection codes with their HTTP status, and the
names Waybill gives (workflow ids, its own actor), the default escalation ladder.

Pure and fast: no database, no Temporal.
"""

from __future__ import annotations

import re
from pathlib import Path

from temporalio.exceptions import ApplicationError

from api.events.rejections import from_rejection, rejected
from policies import parse_policy
from workflows import ids
from workflows.order.types import AFTER_DELIVERY, BEFORE_SHIPMENT, MOVING, TERMINAL_STAGES, Stage
from workflows.rejections import HTTP_STATUS, reject

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "workflows"
# `reject("code", ...)` and `_reject("code", ...)`, the code possibly on the next line.
_REJECT_CALL = re.compile(r"\b_?reject\(\s*\"([a-z_]+)\"")


def _raised_codes() -> set[str]:
    return {code for path in WORKFLOWS.rglob("*.py")
            for code in _REJECT_CALL.findall(path.read_text(encoding="utf-8"))}


def test_every_stage_is_in_exactly_one_group() -> None:
    groups = [BEFORE_SHIPMENT, MOVING, AFTER_DELIVERY, TERMINAL_STAGES]
    assert sorted(s for g in groups for s in g) == sorted(Stage)


def test_every_code_a_workflow_refuses_with_has_a_status() -> None:
    raised = _raised_codes()
    assert len(raised) >= 20, "the scan found too few reject() calls: has their form changed?"
    assert sorted(raised - HTTP_STATUS.keys()) == []


def test_the_table_holds_no_code_no_workflow_raises() -> None:
    assert sorted(HTTP_STATUS.keys() - _raised_codes()) == []


def test_statuses_are_client_errors() -> None:
    assert set(HTTP_STATUS.values()) <= {403, 409, 422}


def test_a_rejection_becomes_the_api_error_with_its_status() -> None:
    error = from_rejection(reject("unknown_sku", "lines name SKUs that are not on the order",
                                  skus=[f"S{i}" for i in range(12)]))
    assert error is not None
    assert (error.status, error.code) == (422, "unknown_sku")
    assert error.details["skus_count"] == 12 and len(error.details["skus"]) == 10
    assert rejected("invalid_transition", "closed").status == 409


def test_an_unknown_failure_is_not_answered_as_a_rejection() -> None:
    assert from_rejection(ApplicationError("boom", type="SomethingElse")) is None
    assert from_rejection(ApplicationError("boom")) is None


def test_workflow_ids_are_the_ones_committed_histories_hold() -> None:
    assert ids.order_workflow_id("SO-1") == "order-SO-1"
    assert ids.claim_workflow_id("CL-1") == "claim-CL-1"
    assert ids.complaint_workflow_id("CP-1") == "complaint-CP-1"
    assert ids.escalation_workflow_id("SO-1", "ship_late-1") == "esc-SO-1-ship_late-1"
    assert ids.delivery_workflow_id("42") == "delivery-42"
    assert (ids.SYSTEM_ACTOR, ids.SYSTEM_SOURCE) == ("waybill", "system")


def test_workflow_ids_and_the_system_actor_are_spelt_only_in_workflows_ids() -> None:
    spelt = re.compile(r'f"(order|claim|complaint|delivery)-\{[^}]*\}"|f"esc-\{|'
                       r"^SYSTEM_(ACTOR|SOURCE) =", re.MULTILINE)
    sources = [p for top in ROOT.iterdir()
               if not top.name.startswith(".") and top.name not in ("tests", "migrations")
               for p in (top.rglob("*.py") if top.is_dir() else [top]) if p.suffix == ".py"]
    offenders = sorted(str(p.relative_to(ROOT)) for p in sources
                       if p != WORKFLOWS / "ids.py" and spelt.search(p.read_text("utf-8")))
    assert offenders == []


def test_a_policy_without_a_ladder_takes_the_default_one() -> None:
    body = {key: "PT1H" for key in ("confirm_within", "pick_within", "scan_gap",
                                    "receipt_within", "survey_after", "survey_window")}
    ladder = parse_policy("plain", body, "test").escalation
    assert ladder is not None
    assert [(lvl.level, lvl.recipients, lvl.ack_within, lvl.resolve_within)
            for lvl in ladder.levels] == [
        (1, ["ops_desk"], 1800, 4 * 3600), (2, ["supervisor"], 3600, 8 * 3600),
        (3, ["cs_manager", "key_account_manager"], 2 * 3600, 24 * 3600)]
    assert (ladder.repeat_every, ladder.snooze_max) == (4 * 3600, 8 * 3600)
