"""Activities that write the order's read model to the application database."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from db.engine import transaction
from db.escalations import apply_escalation_projection
from db.orders import apply_projection
from workflows.types import EscalationProjection, ProjectionInput


class ProjectionActivities:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @activity.defn
    def project_order(self, inp: ProjectionInput) -> None:
        """Upsert keyed by event id, breach id and projection sequence: safe to retry."""
        with transaction(self._sessions) as session:
            apply_projection(session, inp)

    @activity.defn
    def project_escalation(self, inp: EscalationProjection) -> None:
        """Upsert keyed by escalation id and step number: safe to retry."""
        with transaction(self._sessions) as session:
            apply_escalation_projection(session, inp)
