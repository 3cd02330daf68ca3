"""Request dependencies: database session, Temporal client, the caller's identity."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from temporalio.client import Client

from api.edge.auth_failures import AuthFailures
from api.errors import ApiError
from api.permissions import Role, roles_for
from archive import Archive
from config import Settings
from db.keys.queries import KeyRecord, Scope, lookup_key, refusal
from shared.survey_links import SurveyLinks, links_for, opt_out_links_for, tracking_links_for


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if it raises.

    Only for plain `def` handlers (run in the thread pool) that do nothing but database work:
    an async handler takes `DbDep` (api/edge/units.py) instead, so it never holds a connection
    while it awaits Temporal or the network (tests/api/edge/test_async_routes.py checks this)."""
    session: Session = request.app.state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# app.state is untyped (Starlette's State); api/app.py's lifespan sets what these read, and the
# annotated local gives the value its type. `async def`, as every dependency that only reads
# app state: FastAPI runs a plain `def` dependency in the thread pool, a hop per dependency per
# request (measured: a fifth of the API's CPU went to thread-pool hand-offs, issue 16 §3).
async def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_archive(request: Request) -> Archive:
    archive: Archive = request.app.state.archive
    return archive


# scope="function": the commit happens before the response is sent, so a client that follows a
# redirect or reads right after a write sees it, and a failed commit is an error, not a lie.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
TemporalDep = Annotated[Client, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _links(request: Request, name: str,
           make: Callable[[Settings], SurveyLinks]) -> SurveyLinks:
    """The app's signed links of one kind, made on first use and kept on app state (the
    secret they sign with is read once)."""
    state = request.app.state
    links: SurveyLinks | None = getattr(state, name, None)
    if links is None:
        links = make(state.settings)
        setattr(state, name, links)
    return links


def tracking_links(request: Request) -> SurveyLinks:
    """The customer tracking page's links (`/t/<token>`)."""
    return _links(request, "tracking_links", tracking_links_for)


def survey_links(request: Request) -> SurveyLinks:
    """The survey's links (`/s/<token>`)."""
    return _links(request, "survey_links", links_for)


def opt_out_links(request: Request) -> SurveyLinks:
    """The notices' opt-out links (`/u/<token>`)."""
    return _links(request, "opt_out_links", opt_out_links_for)


async def get_tracking_links(request: Request) -> SurveyLinks:
    return tracking_links(request)


async def get_survey_links(request: Request) -> SurveyLinks:
    return survey_links(request)


async def get_opt_out_links(request: Request) -> SurveyLinks:
    return opt_out_links(request)


SurveyLinksDep = Annotated[SurveyLinks, Depends(get_survey_links)]
OptOutLinksDep = Annotated[SurveyLinks, Depends(get_opt_out_links)]
TrackingLinksDep = Annotated[SurveyLinks, Depends(get_tracking_links)]
ArchiveDep = Annotated[Archive, Depends(get_archive)]

_bearer = HTTPBearer(auto_error=False, description="An API key from `waybill keys create`")


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role
    team: str = ""  # whose in-app inbox the caller reads; defaults to the role's name
    key_id: int | None = None
    scope: Scope = field(default_factory=Scope)

    def __post_init__(self) -> None:
        if not self.team:
            object.__setattr__(self, "team", self.role.value)


def authorize(who: Principal, action: str) -> None:
    """403 `forbidden` (naming the action) unless the caller's role may do `action` (the
    permission table, api/permissions.py). For checks that need the body, e.g. the event
    type."""
    if who.role not in roles_for(action):
        raise ApiError(403, "forbidden", f"role {who.role.value} may not do {action}",
                       role=who.role.value, action=action,
                       allowed=sorted(r.value for r in roles_for(action)))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _failures(request: Request) -> AuthFailures:
    failures: AuthFailures = request.app.state.auth_failures
    return failures


def refuse_if_throttled(request: Request) -> None:
    """429 `too_many_auth_failures` for an address over the failed-authentication limit; asked
    before any key lookup, so a key-guessing client costs no query."""
    retry = _failures(request).retry_after(client_address(request))
    if retry is not None:
        raise ApiError(429, "too_many_auth_failures",
                       "too many failed authentications from this address; try later",
                       headers={"Retry-After": str(retry)}, retry_after_seconds=retry)


_REFUSALS: dict[str, tuple[str, str]] = {
    "missing": ("unauthorized", "an API key is required: Authorization: Bearer <key>"),
    "unknown": ("unauthorized", "the API key is not valid"),
    "revoked": ("key_revoked", "the API key has been revoked"),
    "expired": ("key_expired", "the API key has expired"),
}


def authenticate(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    """The caller behind the bearer key, or 401 (each failure logged and counted per address;
    429 once an address is over the limit)."""
    refuse_if_throttled(request)
    given = creds.credentials if creds is not None else None
    row: KeyRecord | None = None
    if creds is None or creds.scheme.lower() != "bearer" or not given:
        reason: str | None = "missing"
    else:
        # Its own short unit of work: the lookup must not leave a connection checked out for
        # the rest of the request.
        row = request.app.state.db.read_here(lookup_key, given)
        reason = refusal(row)
    if reason is not None or row is None:
        reason = reason or "unknown"
        _failures(request).record(client_address(request), reason, given, via="api")
        code, message = _REFUSALS[reason]
        raise ApiError(401, code, message)
    who = Principal(name=row.name, role=Role(row.role), team=row.team or row.role,
                    key_id=row.id, scope=Scope.of(row))
    request.state.role = who.role.value  # for the access log line
    return who


def require(action: str) -> Callable[..., Principal]:
    """A dependency that admits only callers whose role may do `action` (a name in the
    permission table, or a family such as `order.event.*` whose handler checks the member
    with `authorize`). An unknown action fails here, when the router is built."""
    roles = roles_for(action)

    # A plain `def`: FastAPI runs it in the thread pool (the key lookup is a query).
    def dependency(request: Request,
                   creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                   ) -> Principal:
        who = authenticate(request, creds)
        if who.role not in roles:
            raise ApiError(403, "forbidden", f"role {who.role.value} may not do {action}",
                           role=who.role.value, action=action,
                           allowed=sorted(r.value for r in roles))
        return who

    dependency.action = action  # type: ignore[attr-defined]  # read by tests/api/test_permissions.py
    dependency.__name__ = f"require_{action}"
    return dependency
