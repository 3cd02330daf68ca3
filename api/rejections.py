"""Turn a workflow update's validator rejection into the API's error envelope."""

from __future__ import annotations

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.errors import ApiError


def as_api_error(exc: WorkflowUpdateFailedError, statuses: dict[str, int]) -> ApiError | None:
    """The ApiError for a rejection whose type `statuses` knows; None for anything else."""
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type in statuses:
        details = cause.details[0] if cause.details else {}
        return ApiError(statuses[cause.type], cause.type, cause.message, **details)
    return None
