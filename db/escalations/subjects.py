"""Escalations by what breached: a claim's or a complaint's step (`subject` "claim:ID",
"complaint:ID"). The case pages list a case's escalations and filter cases by who holds them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.escalations.models import EscalationRow

OPEN = "open"


def subject_of(kind: str, case_id: str) -> str:
    return f"{kind}:{case_id}"


def escalated_to(assignee: str, kind: str) -> Select[tuple[str]]:
    """The ids of the cases of `kind` (claim, complaint) with an open escalation assigned to
    `assignee`: a subquery for `Row.id.in_(...)`."""
    prefix = f"{kind}:"
    return (select(func.substr(EscalationRow.subject, len(prefix) + 1))
            .where(EscalationRow.state == OPEN, EscalationRow.assignee == assignee,
                   EscalationRow.subject.like(f"{prefix}%")))


def open_for(session: Session, kind: str,
             case_ids: Iterable[str]) -> dict[str, list[EscalationRow]]:
    """The open escalations of several cases in one query, highest level first, by case id."""
    subjects = {subject_of(kind, case_id): case_id for case_id in case_ids}
    out: dict[str, list[EscalationRow]] = {}
    if not subjects:
        return out
    rows = session.scalars(
        select(EscalationRow)
        .where(EscalationRow.subject.in_(subjects), EscalationRow.state == OPEN)
        .order_by(EscalationRow.level.desc(), EscalationRow.opened_at, EscalationRow.id))
    for row in rows:
        out.setdefault(subjects[row.subject], []).append(row)
    return out


def late_step(row: EscalationRow) -> str:
    """The case's step whose deadline the escalation is about (its breach id is `<step>-1`)."""
    return row.breach_id.rsplit("-", 1)[0]


def all_for(session: Session, kind: str, case_id: str) -> list[EscalationRow]:
    """Every escalation the case's missed deadlines opened, oldest first."""
    return list(session.scalars(
        select(EscalationRow).where(EscalationRow.subject == subject_of(kind, case_id))
        .order_by(EscalationRow.opened_at, EscalationRow.id)))


def assignees(session: Session, kind: str) -> list[str]:
    """Who holds an open escalation of a case of `kind`: the assignee filter's choices."""
    return sorted(a for a in session.scalars(
        select(EscalationRow.assignee).distinct()
        .where(EscalationRow.state == OPEN, EscalationRow.subject.like(f"{kind}:%"),
               EscalationRow.assignee.is_not(None))) if a)
