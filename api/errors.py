"""One error envelope for the whole API: {"error": {"code", "message", "details", "request_id"}}.

No error leaves as plain text: an unavailable database or Temporal is a 503 with `Retry-After`,
anything unforeseen a 500 whose `request_id` is also in the log line and the `X-Request-ID`
header. Console pages (/console) get the same as a page in the viewer's language.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from api.edge import request_id
from workflows.rejections import ECHO_MAX

log = logging.getLogger("waybill.api")
T = TypeVar("T")


class ApiError(Exception):
    """A domain error that knows its HTTP status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers


class ErrorBody(BaseModel):
    """What went wrong: `code` is for machines (stable), `message` for people."""

    code: str = Field(examples=["invalid_transition"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str | None = Field(default=None, description="also in X-Request-ID and the log")


class ErrorEnvelope(BaseModel):
    """Every error the API answers, 4xx and 5xx alike (built by `envelope` below)."""

    error: ErrorBody


def found(row: T | None, what: str, key: str, value: str) -> T:
    """`row`, or a 404 whose code names what is missing (`<what>_not_found`, details
    `{key: value}`): one rule for every lookup by id."""
    if row is None:
        # headers given (None) positionally, so `key` always lands in the details
        raise ApiError(404, f"{what}_not_found", f"{what} {value} does not exist", None,
                       **{key: value})
    return row


def envelope(status: int, code: str, message: str, details: dict[str, Any] | None = None,
             headers: dict[str, str] | None = None, rid: str | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message, "details": details or {}}
    if rid:
        error["request_id"] = rid
    headers = dict(headers or {})
    if rid:
        headers[request_id.HEADER] = rid
    return JSONResponse(to_jsonable_python({"error": error}), status_code=status,
                        headers=headers)


# Validation errors raised by Waybill's own schema rules (api/schemas.py), answered under their
# code instead of `validation_error` when they are the only thing wrong with a request.
OWN_CODES = frozenset({"occurred_too_early", "unknown_survey_question"})

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized",
               403: "forbidden", 413: "body_too_large"}


def _retry_after(request: Request) -> dict[str, str]:
    settings = getattr(request.app.state, "settings", None)
    return {"Retry-After": str(getattr(settings, "retry_after_seconds", 5))}


def _is_database_unavailable(exc: Exception) -> bool:
    """The pool is exhausted, or the server cannot be reached or went away mid-request."""
    if isinstance(exc, PoolTimeout | DisconnectionError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        name = type(exc.orig).__name__ if exc.orig is not None else ""
        # psycopg2: OperationalError (refused, terminated, read-only during recovery);
        # sqlite3: OperationalError "database is locked" (a writer held it too long).
        return name in ("OperationalError", "InterfaceError", "AdminShutdown",
                        "QueryCanceled")
    return False


def install(app: FastAPI) -> None:
    def respond(request: Request, status: int, code: str, message: str,
                details: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> Response:
        rid = request_id.of(request)
        if request.url.path.startswith("/console") and status >= 500:
            from console.errors import error_page  # the console renders its own pages

            return error_page(request, status, code, rid, headers)
        return envelope(status, code, message, details, headers, rid)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        headers = dict(exc.headers or {})
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if exc.status == 503:  # every 503 says when to retry (archive_unavailable too)
            headers = {**_retry_after(request), **headers}
        return respond(request, exc.status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        found = exc.errors()
        # At most a few errors back (a 50,000-line body may have 50,000): the first ones and
        # how many there were.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")}
                  for e in found[:ECHO_MAX]]
        details: dict[str, Any] = {"errors": errors}
        if len(found) > ECHO_MAX:
            details["error_count"] = len(found)
        # A body refused by one of Waybill's own rules answers with its code.
        kinds = {e.get("type") for e in found}
        code = kinds.pop() if len(kinds) == 1 and kinds <= OWN_CODES else "validation_error"
        return respond(request, 422, code, "the request is not valid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI answers a JSON body that is not UTF-8 with a bare 400; it is as invalid
            # as malformed JSON, which it reports as a validation error (422 json_invalid).
            return respond(request, 422, "validation_error", "the request is not valid",
                           {"errors": [{"loc": ["body"], "msg": "the body is not UTF-8 JSON",
                                        "type": "json_invalid"}]})
        # api/edge/body_limit.BodyTooLarge carries its own code and limit.
        code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "http_error")
        limit = getattr(exc, "limit", None)
        return respond(request, exc.status_code, code, str(exc.detail),
                       {"max_bytes": limit} if limit else None, dict(exc.headers or {}))

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> Response:
        log.error("temporal call failed", extra={"status": exc.status.name, "error": str(exc)})
        return respond(request, 503, "temporal_unavailable",
                       "the workflow service did not answer; retry with the same ids",
                       {"status": exc.status.name}, _retry_after(request))

    async def _database(request: Request, exc: Exception) -> Response:
        if not _is_database_unavailable(exc):
            raise exc  # a bug, not an outage: the 500 handler below answers it
        log.error("database unavailable", extra={"error": type(exc).__name__})
        return respond(request, 503, "database_unavailable",
                       "the database is not available; retry shortly", None,
                       _retry_after(request))

    for kind in (PoolTimeout, DisconnectionError, DBAPIError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        # Registered for Exception, Starlette runs this in its outermost middleware: the
        # request id comes from the scope, and the header is set here.
        log.exception("unhandled error", extra={"request_id": request_id.of(request),
                                                "path": request.url.path})
        return respond(request, 500, "internal_error",
                       "something went wrong on our side; quote the request_id when reporting",
                       None, None)
