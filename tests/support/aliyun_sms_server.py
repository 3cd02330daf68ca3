"""A local server speaking Aliyun Dysmsapi's `SendSms` (RPC style, version 2017-05-25), for the
SMS channel's tests. It checks each request as Aliyun documents it, with its own code (not
Waybill's signer, so a mistake in one is caught by the other):

* every required parameter present (`AccessKeyId`, `Action=SendSms`, `PhoneNumbers`,
  `SignName`, `SignatureMethod=HMAC-SHA1`, `SignatureNonce`, `SignatureVersion=1.0`,
  `TemplateCode`, `Timestamp`, `Version=2017-05-25`), else `MissingParameter`;
* the key id known, else `InvalidAccessKeyId.NotFound`;
* the signature: HMAC-SHA1 with key `secret + "&"` over `GET&%2F&` + the percent-encoded,
  name-sorted query (RFC 3986), base64, else `SignatureDoesNotMatch`;
* the timestamp within 15 minutes, else `InvalidTimeStamp.Expired`; a nonce used once only,
  else `SignatureNonceUsed`;

then answers like the provider: `{"Code": "OK", "BizId": ..., "RequestId": ...}`, or what the
test scripted for the next requests: "throttled" (`isv.BUSINESS_LIMIT_CONTROL`), "invalid"
(`isv.MOBILE_NUMBER_ILLEGAL`), "error" (HTTP 500). Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

REQUIRED = ("AccessKeyId", "Action", "PhoneNumbers", "SignName", "SignatureMethod",
            "SignatureNonce", "SignatureVersion", "TemplateCode", "Timestamp", "Version",
            "Signature")
ANSWERS = {
    "throttled": (200, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
    "invalid": (200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
    "error": (500, "InternalError", "The request processing has failed due to some unknown "
                                    "error."),
}


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else, UTF-8 bytes as %XY.
    return quote(text, safe="", encoding="utf-8")


def documented_signature(params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{_encode(k)}={_encode(params[k])}"
                         for k in sorted(params) if k != "Signature")
    to_sign = "GET&" + _encode("/") + "&" + _encode(canonical)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(),
                                     hashlib.sha1).digest()).decode()


@dataclass
class Sent:
    phone: str
    template_code: str
    params: dict[str, Any]
    out_id: str
    code: str  # what the server answered


@dataclass
class AliyunSmsServer:
    key_id: str = "LTAI-test-key"
    secret: str = "test-secret-never-logged"
    url: str = ""
    script: list[str] = field(default_factory=list)  # answers for the next requests
    requests: list[Sent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # codes of requests that failed the checks
    _nonces: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.requests if s.code == "OK"]

    def answer(self, raw_query: str) -> tuple[int, dict[str, Any]]:
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        request_id = str(uuid.uuid4()).upper()
        with self._lock:
            problem = self._check(params)
            if problem is not None:
                self.refused.append(problem[0])
                return (404 if problem[0].endswith("NotFound") else 400,
                        {"Code": problem[0], "Message": problem[1], "RequestId": request_id})
            mode = self.script.pop(0) if self.script else "ok"
            status, code, message = ANSWERS.get(mode, (200, "OK", "OK"))
            self.requests.append(Sent(
                phone=params["PhoneNumbers"], template_code=params["TemplateCode"],
                params=json.loads(params.get("TemplateParam") or "{}"),
                out_id=params.get("OutId", ""), code=code))
        if code == "OK":
            return 200, {"Code": "OK", "Message": "OK", "RequestId": request_id,
                         "BizId": f"{uuid.uuid4().int % 10**18}^0"}
        return status, {"Code": code, "Message": message, "RequestId": request_id}

    def _check(self, params: dict[str, str]) -> tuple[str, str] | None:
        missing = [name for name in REQUIRED if not params.get(name)]
        if missing:
            return "MissingParameter", f"{missing[0]} is mandatory for this action."
        if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
            return "InvalidAction.NotFound", "Specified api is not found"
        if params["SignatureMethod"] != "HMAC-SHA1" or params["SignatureVersion"] != "1.0":
            return "InvalidSignatureMethod", "Specified signature method is not supported."
        if params["AccessKeyId"] != self.key_id:
            return "InvalidAccessKeyId.NotFound", "Specified access key is not found."
        if not hmac.compare_digest(params["Signature"],
                                   documented_signature(params, self.secret)):
            return "SignatureDoesNotMatch", "Specified signature is not matched."
        try:
            stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return "InvalidTimeStamp.Format", "Specified time stamp is not valid."
        if abs(datetime.now(UTC) - stamp.replace(tzinfo=UTC)) > timedelta(minutes=15):
            return "InvalidTimeStamp.Expired", "Specified time stamp or date header is expired."
        if params["SignatureNonce"] in self._nonces:
            return "SignatureNonceUsed", "Specified signature nonce was used already."
        self._nonces.add(params["SignatureNonce"])
        return None


@contextmanager
def aliyun_sms_server(**kwargs: Any) -> Iterator[AliyunSmsServer]:
    server_state = AliyunSmsServer(**kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            status, body = server_state.answer(urlsplit(self.path).query)
            raw = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
