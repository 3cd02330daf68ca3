"""Payloads of the audit checkpoint (standard library only, safe to import in workflows).

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CheckpointInput:
    """Seal the heads of the audit chains that moved (workflows.audit.checkpoint).

    Attributes:
        limit: at most this many chains per checkpoint; 0 = the configured
            `audit_checkpoint_batch`. The rest wait for the next run.
    """

    limit: int = 0


@dataclass
class CheckpointResult:
    checkpoint_id: int | None = None  # None: no chain moved since the last checkpoint
    heads: int = 0
