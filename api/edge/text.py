"""Text the database can store: no NUL character anywhere in what a caller sends.

PostgreSQL refuses U+0000 in `text` and `jsonb`; SQLite keeps it. Let through, it is a 500 at
the first INSERT, or worse, an event the workflow accepted whose projection activity then fails
on every retry. So it is refused at the edge with a 422: in request bodies by the models'
common base (`api.schemas.Strict`), in the path and query string by `refuse_nul_in_url`, an
app-wide dependency.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.errors import ApiError

NUL = "\x00"
MESSAGE = "text may not contain the NUL character (U+0000)"
API_PREFIX = "/v1/"


def contains_nul(value: Any) -> bool:
    """True if `value`, or any string, key or item inside it, holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(v) for v in value)
    return False


async def refuse_nul_in_url(request: Request) -> None:
    """422 `validation_error` for a NUL (`%00`) in an API call's path or query string.

    Only under /v1: the survey page (/s) and the console answer with pages of their own (a
    survey link with a NUL in it is simply not a valid link, 404)."""
    if not request.url.path.startswith(API_PREFIX):
        return
    where = ["path"] if NUL in request.url.path else next(
        (["query", name] for name, value in request.query_params.multi_items()
         if NUL in name or NUL in value), None)
    if where is not None:
        raise ApiError(422, "validation_error", "the request is not valid", errors=[
            {"loc": where, "msg": MESSAGE, "type": "nul_character"}])
