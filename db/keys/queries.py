"""API keys: generated once, stored only as a SHA-256 hash; listed, revoked, scoped, expiring."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, bindparam, or_, select
from sqlalchemy.orm import Session

from db.keys.models import ApiKey

KEY_PREFIX = "wb_"


def hash_key(key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


class KeyFields(Protocol):
    """What deciding on a key reads of it: an ApiKey row, or the KeyRecord a request reads."""

    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def scope_event_types(self) -> list[str] | None: ...
    @property
    def scope_customers(self) -> list[str] | None: ...
    @property
    def scope_carriers(self) -> list[str] | None: ...


@dataclass(frozen=True)
class Scope:
    """What a key is limited to; None = no limit of that kind."""

    event_types: tuple[str, ...] | None = None
    customers: tuple[str, ...] | None = None
    carriers: tuple[str, ...] | None = None

    @property
    def limited(self) -> bool:
        return any(v is not None for v in (self.event_types, self.customers, self.carriers))

    @classmethod
    def of(cls, row: KeyFields) -> Scope:
        def values(listed: list[str] | None) -> tuple[str, ...] | None:
            return tuple(listed) if listed is not None else None

        return cls(event_types=values(row.scope_event_types),
                   customers=values(row.scope_customers), carriers=values(row.scope_carriers))


def _listed(values: tuple[str, ...] | None) -> list[str] | None:
    return sorted(set(values)) if values is not None else None


def create_key(session: Session, name: str, role: str, team: str | None = None,
               scope: Scope | None = None,
               expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key; `team` names the in-app inbox its holder reads (None: the role's name)."""
    scope = scope or Scope()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role, key_hash=hash_key(key), prefix=key[:10],
                 created_at=datetime.now(UTC), team=team,
                 scope_event_types=_listed(scope.event_types),
                 scope_customers=_listed(scope.customers),
                 scope_carriers=_listed(scope.carriers), expires_at=expires_at)
    session.add(row)
    session.flush()
    return row, key


def find_key(session: Session, key: str) -> ApiKey | None:
    """The key's row, revoked and expired ones included (the caller says which it was), as an
    ORM object: for the console's sign-in, which opens a session on it. A request's key check
    reads `lookup_key`."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))


@dataclass(frozen=True)
class KeyRecord:
    """A key's row as every API request reads it (`lookup_key`)."""

    id: int
    name: str
    role: str
    team: str | None
    revoked_at: datetime | None
    expires_at: datetime | None
    scope_event_types: list[str] | None
    scope_customers: list[str] | None
    scope_carriers: list[str] | None


_KEYS = ApiKey.__table__.c
# Built once: this runs on every API request, and building the statement and loading an ORM
# object cost several times the query itself (~45 us against ~215 us through a Session).
_BY_HASH = select(*(_KEYS[name] for name in KeyRecord.__dataclass_fields__)).where(
    _KEYS.key_hash == bindparam("key_hash"))


def lookup_key(connection: Connection, key: str) -> KeyRecord | None:
    """The key's row for a request's key check (the API's, the docs'): `find_key`'s row, read
    on a bare connection."""
    row = connection.execute(_BY_HASH, {"key_hash": hash_key(key)}).first()
    return KeyRecord(**row._mapping) if row is not None else None


def is_expired(row: KeyFields, now: datetime | None = None) -> bool:
    return row.expires_at is not None and row.expires_at <= (now or datetime.now(UTC))


def refusal(row: KeyFields | None) -> str | None:
    """Why a looked-up key may not be used (`unknown`, `revoked`, `expired`), or None."""
    if row is None:
        return "unknown"
    if row.revoked_at is not None:
        return "revoked"
    if is_expired(row):
        return "expired"
    return None


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def get_key(session: Session, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def find_by_name_or_prefix(session: Session, name_or_prefix: str) -> list[ApiKey]:
    """Keys not yet revoked whose name is, or whose prefix starts with, `name_or_prefix`."""
    return list(session.scalars(select(ApiKey).where(
        ApiKey.revoked_at.is_(None),
        or_(ApiKey.name == name_or_prefix, ApiKey.prefix.startswith(name_or_prefix,
                                                                     autoescape=True)))))


def revoke(session: Session, row: ApiKey, now: datetime | None = None) -> ApiKey:
    """Revoke at once: the next request with the key is 401 and its console sessions end
    (console/session.py reads `revoked_at` on every request). Revoking twice keeps the first
    time."""
    if row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)
        session.flush()
    return row
