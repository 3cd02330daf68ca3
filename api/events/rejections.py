"""Turn a workflow's refusal into the API's error envelope, with the status its code has in
the one table of rejection codes (workflows/rejections.py HTTP_STATUS)."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.errors import ApiError
from workflows.rejections import HTTP_STATUS


def from_rejection(exc: ApplicationError) -> ApiError | None:
    """The ApiError for a rejection whose code has a status; None for anything else."""
    code = exc.type
    if code is None or code not in HTTP_STATUS:
        return None
    details = exc.details[0] if exc.details else {}
    return ApiError(HTTP_STATUS[code], code, exc.message, **details)


def as_api_error(exc: WorkflowUpdateFailedError) -> ApiError | None:
    """The ApiError for an update's validator rejection; None for any other failure."""
    cause = exc.cause
    return from_rejection(cause) if isinstance(cause, ApplicationError) else None


def rejected(code: str, message: str, **details: Any) -> ApiError:
    """The API refusing as the workflow would (e.g. its case has ended and the API answers
    from the database): the same code, so the same status."""
    return ApiError(HTTP_STATUS[code], code, message, **details)
