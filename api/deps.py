"""Request dependencies: database session, Temporal client, the caller's identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.errors import ApiError
from archive import Archive
from config import Settings
from db.keys import find_active_key


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    INTEGRATION = "integration"
    AUDITOR = "auditor"
    ADMIN = "admin"


ALL_ROLES = tuple(Role)


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if it raises.

    Only for plain `def` handlers (run in the thread pool) that do nothing but database work:
    an async handler takes `DbDep` (api/edge/units.py) instead, so it never holds a connection
    while it awaits Temporal or the network (tests/test_edge_routes.py checks this)."""
    session: Session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_temporal(request: Request) -> Client:
    return request.app.state.temporal


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_archive(request: Request) -> Archive:
    return request.app.state.archive


# scope="function": the commit happens before the response is sent, so a client that follows a
# redirect or reads right after a write sees it, and a failed commit is an error, not a lie.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ArchiveDep = Annotated[Archive, Depends(get_archive)]

_bearer = HTTPBearer(auto_error=False, description="An API key from `waybill keys create`")


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    team: str = ""  # whose in-app inbox the caller reads; defaults to the role's name

    def __post_init__(self) -> None:
        if not self.team:
            object.__setattr__(self, "team", self.role.value)


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency that admits only callers whose key has one of `roles`."""

    # A plain `def`: FastAPI runs it in the thread pool. Its own short unit of work: the key
    # lookup must not leave a connection checked out for the rest of the request.
    def dependency(request: Request,
                   creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                   ) -> Principal:
        if creds is None or creds.scheme.lower() != "bearer":
            raise ApiError(401, "unauthorized",
                           "an API key is required: Authorization: Bearer <key>")
        key = request.app.state.db.here(find_active_key, creds.credentials)
        if key is None:
            raise ApiError(401, "unauthorized", "the API key is not valid")
        if key.role not in roles:
            raise ApiError(403, "forbidden", f"role {key.role} may not do this",
                           role=key.role, allowed=[r.value for r in roles])
        return Principal(name=key.name, role=Role(key.role), team=key.team or key.role)

    return dependency
