"""The codec endpoint for the Temporal Web UI, admitted by the console's session.

The Web UI can send no Waybill key: its codec calls carry only what the browser adds. Told to
include credentials (`TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`, or "include cross-origin
credentials" in its codec settings), the browser sends the console's session cookie (path
/console), so an auditor or admin signed in to the console sees the UI's payloads decoded and
anyone else sees them sealed. Same protocol, bounds and logging as `/codec/` (api/codec/service.py);
the origin check and credentialed CORS are api/codec/cors.py's. Not under the console's guard:
a refusal here is the API's JSON envelope (the UI shows it), not a sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from api import permissions
from api.codec.service import CodecBody, decode_payloads, encode_payloads
from api.deps import Principal, SettingsDep, TemporalDep
from api.errors import ApiError
from console import session as sessions

router = APIRouter(prefix="/console/codec", include_in_schema=False)


def signed_in(action: str) -> Callable[..., Principal]:
    """A dependency admitting the console session whose role may do `action` (401/403 JSON)."""
    roles = permissions.roles_for(action)

    # A plain `def`: the session lookup is a query, run in the thread pool.
    def dependency(request: Request, settings: SettingsDep) -> Principal:
        cookie = request.cookies.get(sessions.SESSION_COOKIE)
        user = request.app.state.db.here(
            lambda session: sessions.read(settings, session, cookie))
        if user is None:
            raise ApiError(401, "unauthorized", "sign in to the Waybill console in this "
                           "browser first: the codec reads the console's session")
        request.state.role = user.role.value  # for the access log line
        if user.role not in roles:
            raise ApiError(403, "forbidden", f"role {user.role.value} may not do {action}",
                           role=user.role.value, action=action,
                           allowed=sorted(r.value for r in roles))
        return Principal(name=user.name, role=user.role, key_id=user.key_id)

    dependency.action = action  # type: ignore[attr-defined]  # read by tests/api/test_permissions.py
    return dependency


@router.post("/decode")
async def decode(body: CodecBody, who: Annotated[Principal, Depends(signed_in("codec.decode"))],
                 client: TemporalDep, settings: SettingsDep,
                 x_namespace: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    return decode_payloads(body, who, client, settings, x_namespace)


@router.post("/encode")
async def encode(body: CodecBody, who: Annotated[Principal, Depends(signed_in("codec.encode"))],
                 client: TemporalDep, settings: SettingsDep,
                 x_namespace: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    return encode_payloads(body, who, client, settings, x_namespace)
