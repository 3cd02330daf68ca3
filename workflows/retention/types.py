"""Payloads of the personal-data retention run (standard library only, safe to import in
workflows).

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RetentionInput:
    """Redact the personal data of orders (and complaints with no order) closed longer than
    the retention period (workflows.retention.workflow).

    Attributes:
        days: the period; 0 = the configured `personal_data_retention_days`.
        dry_run: count what is due, change nothing.
    """

    days: int = 0
    dry_run: bool = False


@dataclass
class RetentionResult:
    orders: int = 0
    complaints: int = 0
    values: int = 0  # personal values overwritten or deleted
    inline_kept: int = 0  # in rows chained before migration 0017, kept (README)
    late_values: int = 0  # written about an order after its redaction, redacted now
