"""The outbox sweep: (re)starts deliveries for rows nobody is delivering (see db.notifications
.delivery_state.stranded). Run by OutboxSweepWorkflow on the `waybill-outbox-sweep` schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from activities.notify.delivery_start import DeliveryStarter
from db.engine import transaction
from db.notifications.delivery_state import stranded
from workflows.notify.types import SweepInput, SweepResult

log = logging.getLogger("waybill.notify")

SWEEP_TIMEOUT = timedelta(minutes=2)


class SweepActivities:
    def __init__(self, sessions: sessionmaker[Session], starter: DeliveryStarter) -> None:
        self._sessions = sessions
        self._starter = starter

    @activity.defn
    def sweep_outbox(self, inp: SweepInput) -> SweepResult:
        with transaction(self._sessions) as session:
            ids = stranded(session, datetime.now(UTC), timedelta(seconds=inp.grace_seconds),
                           inp.limit)
        started = self._starter.start_from_thread(ids)
        if ids:
            log.info("outbox swept", extra={"stranded": len(ids), "started": started})
        return SweepResult(stranded=len(ids), started=started)
