"""The in-app inbox channel: the item is written in the transaction that marks its row
delivered, so it is delivered exactly once (most inbox rows never get here: `enqueue` delivers
them as it writes them)."""

from __future__ import annotations

from datetime import UTC, datetime

from activities.notify.attempt import Attempt
from db.engine import transaction
from db.notifications.delivery_state import deliver_inbox
from db.notifications.models import OutboxStatus


def deliver_by_inbox(attempt: Attempt) -> str:
    with transaction(attempt.sessions) as session:
        if not deliver_inbox(session, attempt.row, datetime.now(UTC)):
            return attempt.current(session)
    attempt.log_delivered()
    return OutboxStatus.DELIVERED.value
