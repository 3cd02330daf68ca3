"""Managing API keys: the rules shared by the admin API (api/keys/router.py) and the CLI."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.errors import ApiError, found
from api.keys.schemas import KeyCreate, KeyScope, KeyState, KeyView
from api.permissions import Role, allowed
from db.keys import queries as repo
from db.keys.models import ApiKey
from workflows.order.types import EventType

log = logging.getLogger("waybill.keys")


def state_of(row: ApiKey, now: datetime | None = None) -> KeyState:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if repo.is_expired(row, now) else "active"


def view(row: ApiKey) -> KeyView:
    return KeyView(id=row.id, name=row.name, role=row.role, team=row.team, prefix=row.prefix,
                   scope=KeyScope(event_types=_event_types(row.scope_event_types),
                                  customers=row.scope_customers,
                                  carriers=row.scope_carriers),
                   created_at=row.created_at, expires_at=row.expires_at,
                   revoked_at=row.revoked_at, state=state_of(row))


def _event_types(stored: list[str] | None) -> list[EventType] | None:
    return None if stored is None else [EventType(value) for value in stored]


def create(session: Session, body: KeyCreate, by: str) -> tuple[ApiKey, str]:
    """A new key (returned once). 422 `scope_needs_integration` for a scope on a key of
    another role (scopes narrow what machines post), `scope_event_type_not_allowed` for an event
    type the role may not send anyway, `expires_in_past`."""
    given = body.scope or KeyScope()
    scope = repo.Scope(event_types=_values(given.event_types),
                       customers=_values(given.customers), carriers=_values(given.carriers))
    if scope.limited and body.role != Role.INTEGRATION:
        raise ApiError(422, "scope_needs_integration",
                       "only integration keys take a scope", role=body.role.value)
    refused = [t for t in scope.event_types or ()
               if not allowed(body.role, f"order.event.{t}")]
    if refused:
        raise ApiError(422, "scope_event_type_not_allowed",
                       f"an {body.role.value} key may not send these events at all",
                       event_types=refused[:10])
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise ApiError(422, "expires_in_past", "expires_at must be in the future")
    row, key = repo.create_key(
        session, body.name, body.role.value, body.team, scope,
        body.expires_at.astimezone(UTC) if body.expires_at else None)
    log.info("api key created", extra={"key_id": row.id, "key_name": row.name,
                                       "role": row.role, "prefix": row.prefix, "by": by})
    return row, key


def _values(items: Sequence[object] | None) -> tuple[str, ...] | None:
    return tuple(str(getattr(v, "value", v)) for v in items) if items is not None else None


def revoke(session: Session, key_id: int, by: str) -> ApiKey:
    """Revoke at once (404 `key_not_found`); revoking a revoked key changes nothing."""
    row = found(repo.get_key(session, key_id), "key", "key_id", str(key_id))
    if row.revoked_at is None:
        repo.revoke(session, row)
        log.info("api key revoked", extra={"key_id": row.id, "key_name": row.name,
                                           "prefix": row.prefix, "by": by})
    return row
