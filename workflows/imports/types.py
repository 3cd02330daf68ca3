"""Inputs and results of the bulk-import workflow and its activities (standard library only,
safe to import in workflows).

Workflow history: fields may be added (with defaults) but never renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class OrderImportInput:
    """Import `import_id`'s orders [start, total) in batches of `batch_size`."""

    import_id: str
    total: int
    batch_size: int = 100
    start: int = 0
    batches_per_run: int = 50  # then continue as new: history stays small


@dataclass
class ImportBatchInput:
    import_id: str
    start: int
    stop: int


@dataclass
class ImportBatchResult:
    created: int = 0
    duplicates: int = 0
    refused: int = 0


@dataclass
class FinishImportInput:
    import_id: str
    failed: bool = False
    error: str | None = None


@dataclass
class OrderImportResult:
    import_id: str
    processed: int
