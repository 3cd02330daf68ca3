"""The access log: one structured line per HTTP request, when its response has been sent.

Fields: method, path, status, duration_ms, role (set by the auth dependency on
`request.state.role`; absent for public and refused requests) and request_id (api/edge/
request_id.py; install this middleware inside that one). The query string is left out (a
filter value may name a customer or carry a token) and a survey or tracking link's token is
masked: the token is the customer's credential.
"""

from __future__ import annotations

import logging

from starlette.types import Scope

from api.edge import request_id
from api.edge.status_note import AnswerObserver

log = logging.getLogger("waybill.access")
_SURVEY_PREFIX = "/s/"
_TRACKING_PREFIX = "/t/"  # issue 19 §2: the customer's tracking page


def loggable_path(path: str) -> str:
    for prefix in (_SURVEY_PREFIX, _TRACKING_PREFIX):
        if path.startswith(prefix):
            return prefix + "<token>"
    return path


class AccessLogMiddleware(AnswerObserver):
    def answered(self, scope: Scope, status: int, seconds: float) -> None:
        state = scope.get("state") or {}
        entry = {"method": scope.get("method"), "path": loggable_path(scope.get("path", "")),
                 "status": status, "duration_ms": round(seconds * 1000, 1),
                 "request_id": request_id.of(scope)}
        if isinstance(state, dict) and state.get("role"):
            entry["role"] = state["role"]
        log.info("request", extra=entry)
