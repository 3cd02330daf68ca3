"""Activities that write the order's read model to the application database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.notify.delivery_start import DeliveryStarter, deliver_after_commit
from activities.order.notices import escalation_notices, order_notices
from config import Settings
from db.engine import transaction
from db.escalations.queries import apply_escalation_projection
from db.feeds.subscriptions import subscriptions
from db.notifications.customer_rules import NoticeRules
from db.notifications.outbox import Notice, enqueue
from db.orders.queries import RuleDates, apply_change, apply_projection
from shared.carriers import Carriers
from shared.survey_links import links_for, opt_out_links_for, tracking_links_for
from workflows.escalation.types import EscalationProjection
from workflows.order.deadlines import latest_eta, receipt_due_at
from workflows.order.types import (
    OrderState,
    ProjectionChange,
    ProjectionInput,
    TimelineEntry,
)


class ProjectionActivities:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings | None = None,
                 starter: DeliveryStarter | None = None) -> None:
        self._sessions = sessions
        self._starter = starter
        # Survey invitations carry a signed link; made once, so the secret file is read once.
        settings = settings or Settings()
        self._survey_links = links_for(settings)
        # Issue 19 §1: a shipped order's tracking number is subscribed with Kuaidi100 when a
        # key is configured (an outbox row, db/feeds/subscriptions.py).
        self._carriers = Carriers(settings.carrier_codes) if settings.kuaidi100_key else None
        # Issue 19 §3: every customer notice links the tracking page and the opt-out page, and
        # its SMS follow the quiet hours and the daily cap.
        self._tracking_links = tracking_links_for(settings)
        self._opt_out_links = opt_out_links_for(settings)
        self._notice_rules = NoticeRules.from_settings(settings)

    def _notices(self, state: OrderState, entries: list[TimelineEntry],
                 eta: datetime | None) -> list[Notice]:
        return order_notices(state, entries, eta, survey_url=self._survey_links.url,
                             tracking_url=self._tracking_links.url,
                             opt_out_url=self._opt_out_links.url)

    @activity.defn
    def project_order(self, inp: ProjectionInput) -> list[str]:
        """Upsert keyed by event id, breach id and projection sequence: safe to retry.

        Returns the outbox rows (written in the same transaction) still awaiting delivery,
        whose DeliveryWorkflows it started once the transaction committed.
        """
        dates = rule_dates(inp)
        with transaction(self._sessions) as session:
            apply_projection(session, inp, dates)
            outbox = enqueue(session, self._notices(inp.state, inp.entries, dates.latest_eta),
                             self._notice_rules)
            outbox += self._subscriptions(session, inp.state.order_id, inp.entries)
        return deliver_after_commit(self._starter, outbox)

    @activity.defn
    def project_order_change(self, inp: ProjectionChange) -> list[str]:
        """A lean projection: what changed, applied to the state last written. Keyed by event
        id, scan id and projection sequence: safe to retry. Returns as `project_order` does."""
        with transaction(self._sessions) as session:
            state = apply_change(session, inp)
            outbox = enqueue(session, self._notices(state, inp.entries, inp.latest_eta),
                             self._notice_rules)
            outbox += self._subscriptions(session, state.order_id, inp.entries)
        return deliver_after_commit(self._starter, outbox)

    @activity.defn
    def project_escalation(self, inp: EscalationProjection) -> list[str]:
        """Upsert keyed by escalation id and step number: safe to retry.

        Returns the outbox rows (written in the same transaction) still awaiting delivery,
        whose DeliveryWorkflows it started once the transaction committed.
        """
        with transaction(self._sessions) as session:
            apply_escalation_projection(session, inp)
            outbox = enqueue(session, escalation_notices(inp.status, inp.steps))
        return deliver_after_commit(self._starter, outbox)


    def _subscriptions(self, session: Session, order_id: str,
                       entries: list[TimelineEntry]) -> list[str]:
        if self._carriers is None:
            return []
        return subscriptions(session, order_id, entries, self._carriers.code_of)


def rule_dates(inp: ProjectionInput) -> RuleDates:
    """The read model's dates that the order's deadline rules define."""
    return RuleDates(latest_eta=latest_eta(inp.state), receipt_due_at=receipt_due_at(inp.state))
