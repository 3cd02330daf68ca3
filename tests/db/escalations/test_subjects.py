"""The claims and complaints queues' filters on both engines: tier, overdue at a time, and who
holds a case (its open step escalation's assignee; a complaint's department too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from db.claims import queries as claims
from db.claims.models import ClaimRow
from db.complaints import queries as complaints
from db.complaints.models import ComplaintRow
from db.engine import transaction
from db.escalations import subjects
from db.escalations.models import EscalationRow

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def claim(claim_id: str, tier: str = "standard", state: str = "open",
          due_in: float | None = 1.0) -> ClaimRow:
    return ClaimRow(id=claim_id, order_id="SO-1", customer_id="C-1", customer_tier=tier,
                    cause="damaged", origin="delivery", state=state,
                    step="opened" if state == "open" else "closed",
                    awaiting="customer_contacted" if state == "open" else None,
                    due_at=NOW + timedelta(hours=due_in) if due_in is not None else None,
                    opened_by="waybill", opened_at=NOW - timedelta(hours=2), detail={})


def complaint(complaint_id: str, tier: str = "standard", step: str = "accepted",
              due_in: float = 1.0, department: str | None = None) -> ComplaintRow:
    return ComplaintRow(
        id=complaint_id, order_id="SO-1", customer_id="C-1", customer_tier=tier,
        customer={"id": "C-1", "name": "Sanghong", "tier": tier}, origin="api",
        category="delay", description="late", department=department, step=step,
        sla_policy="standard", sla_policy_version="1", sla_policy_snapshot={},
        opened_at=NOW - timedelta(hours=2), deadlines={}, due_kind="route",
        due_at=NOW + timedelta(hours=due_in), breaches=[], created_by="op",
        created_by_role="operator", updated_at=NOW)


def escalation(subject: str, assignee: str | None, state: str = "open",
               step: str = "customer_contacted", level: int = 2) -> EscalationRow:
    return EscalationRow(
        id=f"esc-{subject}-{step}", order_id="SO-1", breach_id=f"{step}-1",
        kind="claim_step_late", stage="delivered", level=level, state=state, customer_id="C-1",
        customer_tier="standard", due_at=NOW, opened_at=NOW, assignee=assignee,
        subject=subject)


def ids(rows: list) -> list[str]:
    return sorted(r.id for r in rows)


def test_claims_by_tier_overdue_and_assignee(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        s.add_all([claim("CL-late", due_in=-1), claim("CL-ka", tier="key_account"),
                   claim("CL-closed", state="closed", due_in=-5),
                   escalation("claim:CL-late", "wang"),
                   escalation("claim:CL-ka", "wang", state="resolved"),
                   escalation("complaint:CL-ka", "wang")])
    with transaction(sessions) as s:
        def listed(**flt: object) -> list[str]:
            return ids(claims.list_claims(s, claims.ClaimFilter(**flt), 50, None))

        assert listed() == ["CL-closed", "CL-ka", "CL-late"]
        assert listed(tier="key_account") == ["CL-ka"]
        assert listed(overdue_at=NOW) == ["CL-late"]  # a closed claim is never overdue
        # only an open escalation about a claim counts: not a resolved one, nor a complaint's
        assert listed(assignee="wang") == ["CL-late"]
        assert listed(assignee="li") == []
        urgent = claims.list_claims(s, claims.ClaimFilter(state="open"), 50, None,
                                    urgent_first=True)
        assert [r.id for r in urgent] == ["CL-late", "CL-ka"]  # the soonest due first
        held = subjects.open_for(s, "claim", ["CL-late", "CL-ka"])
        assert list(held) == ["CL-late"] and held["CL-late"][0].assignee == "wang"
        assert subjects.assignees(s, "claim") == ["wang"]
        assert subjects.late_step(held["CL-late"][0]) == "customer_contacted"
        assert [e.state for e in subjects.all_for(s, "claim", "CL-ka")] == ["resolved"]


def test_complaints_by_state_tier_overdue_and_department_or_assignee(
        sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        s.add_all([complaint("CP-late", due_in=-1, department="transport"),
                   complaint("CP-ka", tier="key_account"),
                   complaint("CP-closed", step="closed", due_in=-3),
                   escalation("complaint:CP-ka", "li", step="route")])
    with transaction(sessions) as s:
        def listed(**flt: object) -> list[str]:
            return ids(complaints.list_complaints(s, complaints.ComplaintFilter(**flt), 50,
                                                  None))

        assert listed(state="open") == ["CP-ka", "CP-late"]
        assert listed(state="closed") == ["CP-closed"]
        assert listed(tier="key_account") == ["CP-ka"]
        assert listed(overdue_at=NOW) == ["CP-late"]
        assert listed(assignee="transport") == ["CP-late"]  # the department it is routed to
        assert listed(assignee="li") == ["CP-ka"]  # its open escalation's assignee
        urgent = complaints.list_complaints(s, complaints.ComplaintFilter(state="open"), 50,
                                            None, urgent_first=True)
        assert [r.id for r in urgent] == ["CP-late", "CP-ka"]
