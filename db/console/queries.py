"""All SQL about console sign-in sessions and each user's remembered language and zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from db.console.models import ConsolePreference, ConsoleSession
from db.keys.models import ApiKey
from db.rowcount import rowcount
from db.upsert import insert_for


@dataclass(frozen=True)
class SessionLookup:
    """A session row with the key it was made from and that key's preferences, if any."""

    row: ConsoleSession
    key: ApiKey
    preference: ConsolePreference | None


def open_session(session: Session, nonce: str, key_id: int, created_at: datetime,
                 expires_at: datetime) -> None:
    """Record a sign-in; expired rows of the same key go at the same time, since their cookies
    are refused by their own signed expiry and nothing else reads them."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.key_id == key_id,
                                                 ConsoleSession.expires_at <= created_at))
    session.add(ConsoleSession(nonce=nonce, key_id=key_id, created_at=created_at,
                               expires_at=expires_at))
    session.flush()


def find_session(session: Session, nonce: str) -> SessionLookup | None:
    """One primary-key lookup per request: the session, its key and its key's preferences."""
    found = session.execute(
        select(ConsoleSession, ApiKey, ConsolePreference)
        .join(ApiKey, ApiKey.id == ConsoleSession.key_id)
        .outerjoin(ConsolePreference, ConsolePreference.key_id == ConsoleSession.key_id)
        .where(ConsoleSession.nonce == nonce)).first()
    if found is None:
        return None
    return SessionLookup(row=found[0], key=found[1], preference=found[2])


def end_session(session: Session, nonce: str, ended_at: datetime) -> bool:
    """Sign a session out for good; False if it was unknown or already ended."""
    result = session.execute(update(ConsoleSession)
                             .where(ConsoleSession.nonce == nonce,
                                    ConsoleSession.ended_at.is_(None))
                             .values(ended_at=ended_at)
                             .execution_options(synchronize_session=False))
    return bool(rowcount(result))


def get_preference(session: Session, key_id: int) -> ConsolePreference | None:
    return session.get(ConsolePreference, key_id)


def save_preference(session: Session, key_id: int, updated_at: datetime,
                    locale: str | None = None, zone: str | None = None) -> None:
    """Remember a user's language and/or zone; a field given as None keeps what was stored."""
    values: dict[str, object] = {"updated_at": updated_at}
    if locale is not None:
        values["locale"] = locale
    if zone is not None:
        values["zone"] = zone
    stmt = insert_for(session, ConsolePreference).values(key_id=key_id, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=["key_id"], set_=values))
