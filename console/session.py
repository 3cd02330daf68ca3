"""Console sign-in sessions and CSRF tokens.

The session cookie is signed: `<key id>.<key hash prefix>.<expiry>.<nonce>.<mac>`, and its nonce
names a row in `console_sessions` (db.console). Every request reads that row with the API key it
was made from in one lookup, so signing out (the row's `ended_at`) ends the session for any copy
of the cookie, revoking the key ends all its sessions at once, and the expiry ends them after
`console_session_hours` (or the key's own expiry). A forged cookie is refused by its signature
before any query. The key itself is never stored in the cookie.

CSRF: every form carries HMAC(secret, "csrf:" + nonce), where the nonce is the session's (signed
in) or a pre-session cookie's (the sign-in form), so a token is only good for the browser it was
issued to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api import permissions
from api.permissions import Role
from config import Settings
from db.console import queries as console_db
from db.keys.models import ApiKey
from db.keys.queries import is_expired
from shared.survey_links import signing_key as survey_signing_key

SESSION_COOKIE = "wb_session"
PRE_SESSION_COOKIE = "wb_presession"
COOKIE_PATH = "/console"
CONSOLE_ROLES = permissions.roles_for("console.sign_in")
# What each role may do beyond reading; templates ask `user.can(...)`, handlers check again.
# The console's names for the API's actions: the roles come from the one permission table.
_CONSOLE_ACTIONS = {
    "note": "order.event.note",
    "escalation": "escalation.acknowledge",  # the four escalation actions share one rule
    "order.confirm": "order.event.confirmed",
    "order.cancel": "order.event.cancelled",
    "order.follow_up_call": "order.event.follow_up_call",
    "order.receipt_upload": "receipt.upload",
    "audit": "order.history.read",
    "order.create": "order.create",
    "kpis": "kpis.read",
    "webhooks": "subscription.manage",
}
ACTIONS: dict[str, frozenset[Role]] = {
    name: permissions.roles_for(action) & CONSOLE_ROLES
    for name, action in _CONSOLE_ACTIONS.items()}
_HASH_PREFIX = 16


@dataclass(frozen=True)
class ConsoleUser:
    name: str
    role: Role
    nonce: str
    key_id: int
    # What the user chose to read the console in (db.console preferences); None = not chosen.
    locale: str | None = None
    zone: str | None = None

    def can(self, action: str) -> bool:
        return self.role in ACTIONS[action]

    def may(self, action: str) -> bool:
        """An action of the permission table itself (e.g. `order.event.<type>` for the generic
        "record event" forms); KeyError for one the table does not name."""
        return self.role in permissions.roles_for(action) & CONSOLE_ROLES


def secret(settings: Settings) -> bytes:
    if settings.console_secret is not None and settings.console_secret.get_secret_value():
        return settings.console_secret.get_secret_value().encode()
    # Domain-separated from the survey links' key, so neither token can stand in for the other.
    return hmac.new(survey_signing_key(settings), b"waybill-console-session:v1",
                    hashlib.sha256).digest()


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def csrf_token(settings: Settings, nonce: str) -> str:
    return _mac(secret(settings), "csrf:" + nonce)


def csrf_ok(settings: Settings, nonce: str | None, given: str | None) -> bool:
    return bool(nonce and given) and hmac.compare_digest(csrf_token(settings, nonce), given)


def issue(settings: Settings, key: ApiKey, now: float | None = None) -> tuple[str, str, int]:
    """A signed cookie value for `key`, with its nonce and expiry (epoch seconds)."""
    expires = int((now or time.time()) + settings.console_session_hours * 3600)
    nonce = secrets.token_urlsafe(16)
    body = f"{key.id}.{key.key_hash[:_HASH_PREFIX]}.{expires}.{nonce}"
    return f"{body}.{_mac(secret(settings), 'session:' + body)}", nonce, expires


def read(settings: Settings, session: Session, cookie: str | None,
         now: float | None = None) -> ConsoleUser | None:
    """The signed-in user, or None: bad signature, expired, signed out, key revoked or not a
    console role."""
    if not cookie or len(cookie) > 300:
        return None
    body, _, mac = cookie.rpartition(".")
    parts = body.split(".")
    if len(parts) != 4 or not hmac.compare_digest(_mac(secret(settings), "session:" + body), mac):
        return None
    key_id, hash_prefix, expires, nonce = parts
    now = now or time.time()
    if not key_id.isdigit() or not expires.isdigit() or int(expires) <= now:
        return None
    found = console_db.find_session(session, nonce)
    if found is None:
        return None
    row, key, preference = found.row, found.key, found.preference
    if (row.key_id != int(key_id) or row.ended_at is not None
            or row.expires_at.timestamp() <= now):
        return None
    if (key.revoked_at is not None or is_expired(key, datetime.fromtimestamp(now, UTC))
            or key.key_hash[:_HASH_PREFIX] != hash_prefix or key.role not in CONSOLE_ROLES):
        return None
    return ConsoleUser(name=key.name, role=Role(key.role), nonce=nonce, key_id=key.id,
                       locale=preference.locale if preference else None,
                       zone=preference.zone if preference else None)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str,
               max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True,
                        samesite="lax", secure=_secure(request))


def start(response: Response, request: Request, settings: Settings, session: Session,
          key: ApiKey) -> None:
    """Sign in: the session's row is added to `session`, which the caller must commit before
    the response leaves (the browser follows the redirect at once)."""
    now = time.time()
    cookie, nonce, expires = issue(settings, key, now)
    console_db.open_session(session, nonce, key.id, datetime.fromtimestamp(now, UTC),
                            datetime.fromtimestamp(expires, UTC))
    set_cookie(response, request, SESSION_COOKIE, cookie,
               int(settings.console_session_hours * 3600))
    response.delete_cookie(PRE_SESSION_COOKIE, path=COOKIE_PATH)


def end(response: Response, session: Session, user: ConsoleUser | None) -> None:
    """Sign out: the row is ended (to be committed by the caller), so a copy of the cookie kept
    anywhere is refused from now on; the cookie is dropped from this browser."""
    if user is not None:
        console_db.end_session(session, user.nonce, datetime.now(UTC))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def pre_session_nonce(request: Request) -> str | None:
    value = request.cookies.get(PRE_SESSION_COOKIE)
    return value if value and len(value) <= 64 else None
