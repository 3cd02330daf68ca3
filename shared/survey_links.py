"""Signed customer links: the follow-up survey `/s/<token>`, the tracking page `/t/<token>` and
the notices' opt-out `/u/<token>`, where the token names an order and proves we issued it for
that purpose (a survey token opens no tracking page, and the other way round).

Tokens are stateless: base64url(order id) + "." + base64url(HMAC-SHA256(secret, purpose + id)),
the MAC cut to 128 bits. Nothing is stored per link, so a link works as long as the secret is
the same; whether the survey is still open is read from the order itself. Kept free of web
framework imports: the projection activity builds the links it puts in notices.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from config import Settings
from shared.owner_only import create_secret_file

log = logging.getLogger("waybill.survey")

SECRET_FILE = "survey_secret"
_PURPOSE = b"waybill-survey-link:v1:"
_MAC_BYTES = 16


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SurveyLinks:
    """Issues and checks one purpose's tokens; `base_url` is where customers reach the API,
    `path` the page the token opens."""

    key: bytes
    base_url: str
    purpose: bytes = _PURPOSE
    path: str = "/s"

    def _mac(self, order_id: str) -> bytes:
        return hmac.new(self.key, self.purpose + order_id.encode(), hashlib.sha256).digest()[
            :_MAC_BYTES]

    def token(self, order_id: str) -> str:
        return f"{_b64(order_id.encode())}.{_b64(self._mac(order_id))}"

    def url(self, order_id: str) -> str:
        return f"{self.base_url}{self.path}/{self.token(order_id)}"

    def order_id(self, token: str) -> str | None:
        """The order a token was issued for, or None for anything we did not issue."""
        encoded, dot, mac = token.partition(".")
        if not dot or not encoded or not mac or len(token) > 200:
            return None
        try:
            order_id = _unb64(encoded).decode("utf-8")
            given = _unb64(mac)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        # Only the one canonical spelling: base64's unused low bits must not make a second
        # token that opens the same survey.
        if _b64(order_id.encode()) != encoded or _b64(given) != mac:
            return None
        if not hmac.compare_digest(given, self._mac(order_id)):
            return None
        return order_id


def links_for(settings: Settings) -> SurveyLinks:
    return SurveyLinks(key=signing_key(settings), base_url=settings.public_url)


# Issue 19: the customer's tracking page, and the opt-out link in every customer notice. Same
# secret, other purposes: each token opens only its own page.
TRACKING_PURPOSE = b"waybill-tracking-link:v1:"
OPT_OUT_PURPOSE = b"waybill-notice-opt-out:v1:"


def tracking_links_for(settings: Settings) -> SurveyLinks:
    """`/t/<token>`: the order's public tracking page."""
    return SurveyLinks(key=signing_key(settings), base_url=settings.public_url,
                       purpose=TRACKING_PURPOSE, path="/t")


def opt_out_links_for(settings: Settings) -> SurveyLinks:
    """`/u/<token>`: stop (or choose) the customer's notices for this order's customer."""
    return SurveyLinks(key=signing_key(settings), base_url=settings.public_url,
                       purpose=OPT_OUT_PURPOSE, path="/u")


def signing_key(settings: Settings) -> bytes:
    """The configured secret, else the one kept in DATA_DIR/survey_secret (made on first use)."""
    if settings.survey_secret is not None and settings.survey_secret.get_secret_value():
        return settings.survey_secret.get_secret_value().encode()
    return _stored_secret(settings.data_dir / SECRET_FILE).encode()


def _stored_secret(path: Path) -> str:
    if not path.exists():
        create_secret_file(path, secrets.token_urlsafe(32), "survey link secret")
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise RuntimeError(f"{path} is empty: delete it to make a new survey secret "
                           "(links already sent stop working) or set WAYBILL_SURVEY_SECRET")
    return value
