"""The Aliyun SMS adapter (Dysmsapi `SendSms`, API version 2017-05-25) over its RPC HTTP API.

A request is a GET of the base URL (`WAYBILL_SMS_BASE_URL`, https://dysmsapi.aliyuncs.com)
with every parameter in the query, signed as Aliyun's RPC signature documentation says:

1. sort the parameters (all but `Signature`) by name;
2. percent-encode names and values as RFC 3986 (UTF-8; `A-Z a-z 0-9 - _ . ~` stay, a space is
   `%20`, never `+`), join each as `name=value`, and the pairs with `&`;
3. StringToSign = `GET&%2F&` + percentEncode(that query);
4. Signature = base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)), sent as the
   `Signature` parameter.

The answer is JSON: `{"Code": "OK", "BizId": ..., "RequestId": ...}` when accepted, else a
`Code` such as `isv.BUSINESS_LIMIT_CONTROL` (throttled: try again later) or
`isv.MOBILE_NUMBER_ILLEGAL` (refused for good). `OutId` carries the outbox row id: the same on
every attempt of one message, so the provider's delivery reports (and its support) can tie
a resend to the first try.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from activities.notify.sms_provider import SmsMessage, SmsNotSent, SmsSent

API_VERSION = "2017-05-25"
# Codes that mean "not now": throttling and the provider's own trouble. Anything else that is
# not OK is a refusal for good (a bad number, template, signature or key).
_RETRY_CODES = frozenset({
    "isv.BUSINESS_LIMIT_CONTROL", "Throttling", "Throttling.User", "Throttling.Api",
    "ServiceUnavailable", "InternalError", "isp.RAM_PERMISSION_DENY_TEMPORARILY",
    "isv.OUT_OF_SERVICE", "SignatureNonceUsed",
})


def percent_encode(text: str) -> str:
    """RFC 3986 percent-encoding, as the signature needs (space -> %20, `~` kept)."""
    return quote(text, safe="-_.~")


def string_to_sign(params: Mapping[str, str], method: str = "GET") -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                     for k, v in sorted(params.items()) if k != "Signature")
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def signature(params: Mapping[str, str], secret: str, method: str = "GET") -> str:
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(params, method).encode(),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def phone_number(recipient: str) -> str:
    """The number as Dysmsapi takes it: digits only; mainland numbers without +86 / 0086."""
    digits = re.sub(r"\D", "", recipient)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix):]
    return digits


class AliyunSms:
    """Sends one SMS per call through Dysmsapi `SendSms`; the key secret stays in here."""

    def __init__(self, base_url: str, access_key_id: str, access_key_secret: str,
                 sign_name: str, region_id: str = "cn-hangzhou",
                 timeout_seconds: float = 10.0) -> None:
        self._base_url = base_url.rstrip("/") + "/"
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._region = region_id
        self._timeout = timeout_seconds

    def signed_params(self, message: SmsMessage, now: datetime | None = None,
                      nonce: str | None = None) -> dict[str, str]:
        params = {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.out_id,
            "PhoneNumbers": phone_number(message.phone),
            "RegionId": self._region,
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,  # new per attempt: a replay guard
            "SignatureVersion": "1.0",
            "TemplateCode": message.template_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False,
                                        separators=(",", ":")),
            "Timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        return {"Signature": signature(params, self._secret), **params}

    def send(self, message: SmsMessage) -> SmsSent:
        """Raises SmsNotSent (permanent or not) unless the provider answered OK."""
        query = "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                         for k, v in self.signed_params(message).items())
        try:
            resp = httpx.get(f"{self._base_url}?{query}", timeout=self._timeout)
        except httpx.HTTPError as exc:
            # Maybe it arrived (a read timeout): sent again under the same OutId.
            raise SmsNotSent(f"sms provider unreachable: {type(exc).__name__}") from None
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        code = str(answer.get("Code") or "")
        if resp.status_code == 200 and code == "OK":
            return SmsSent(provider_id=str(answer.get("BizId") or ""), http_status=200)
        detail = f"sms provider {resp.status_code} {code or '-'}: " \
                 f"{str(answer.get('Message') or '')[:200]}"
        permanent = bool(code) and code not in _RETRY_CODES and resp.status_code < 500
        raise SmsNotSent(detail, permanent=permanent, http_status=resp.status_code)
