"""Signed checkpoints of the audit chains' heads (issue 17 §3). Run by AuditCheckpointWorkflow
on the `waybill-audit-checkpoint` schedule; idempotent enough for a retry: a retried run seals
what moved since, or nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from config import Settings
from db.audit.queries import seal
from db.engine import transaction
from shared.audit_keys import signing_key
from workflows.audit.types import CheckpointInput, CheckpointResult

log = logging.getLogger("waybill.audit")

CHECKPOINT_TIMEOUT = timedelta(minutes=2)


class CheckpointActivities:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn
    def seal_checkpoint(self, inp: CheckpointInput) -> CheckpointResult:
        key_id, key = signing_key(self._settings)
        with transaction(self._sessions) as session:
            sealed = seal(session, key, key_id, inp.limit or self._settings.audit_checkpoint_batch)
        if sealed is None:
            return CheckpointResult()
        log.info("audit checkpoint sealed", extra={"checkpoint_id": sealed.checkpoint_id,
                                                   "heads": sealed.heads, "key_id": key_id})
        return CheckpointResult(checkpoint_id=sealed.checkpoint_id, heads=sealed.heads)
