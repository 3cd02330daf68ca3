"""Kuaidi100, both directions, as its documentation describes it: pushes built and signed the
way Kuaidi100 builds them (a form POST of `param` JSON and `sign` = upper(MD5(param + salt))),
and a local aggregator serving `/poll`, the subscription endpoint, that checks each request
(`schema=json`, `param={company, number, key, parameters{callbackurl, salt, resultv2}}`) and
answers like the real one."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

SALT = "s3cret-salt"
KEY = "k100-test-key"


def scan(ftime: str, context: str, status: str | None = None, code: str | None = None,
         area: str | None = None) -> dict[str, Any]:
    """One entry of `lastResult.data` (ftime as Kuaidi100 writes it: China time, no zone)."""
    entry: dict[str, Any] = {"context": context, "time": ftime, "ftime": ftime}
    if status is not None:
        entry["status"] = status
    if code is not None:
        entry["statusCode"] = code
    if area is not None:
        entry["areaName"] = area
    return entry


def push_param(com: str, nu: str, state: str, scans_newest_first: list[dict[str, Any]],
               status: str = "polling") -> str:
    return json.dumps({
        "status": status, "billstatus": "got", "message": "",
        "lastResult": {"message": "ok", "state": state, "status": "200", "condition": "F00",
                       "ischeck": "1" if state == "3" else "0", "com": com, "nu": nu,
                       "data": scans_newest_first}}, ensure_ascii=False)


def form(param: str, salt: str = SALT, sign: str | None = None) -> str:
    """The urlencoded body Kuaidi100 posts to the callback URL."""
    digest = hashlib.md5((param + salt).encode()).hexdigest().upper()  # noqa: S324
    return urlencode({"param": param, "sign": sign if sign is not None else digest})


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class Aggregator:
    """What the local `/poll` received, and what it answers."""

    key: str = KEY
    url: str = ""
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    fail_next: int = 0  # answer that many requests with 500 first (the client must retry)

    def handle(self, path: str, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        if path != "/poll":
            return 404, {"result": False, "returnCode": "404", "message": "not found"}
        if self.fail_next > 0:
            self.fail_next -= 1
            return 500, {"result": False, "returnCode": "500", "message": "服务器错误"}
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return self._refuse("400", "content type")
        fields = parse_qs(raw.decode())
        if fields.get("schema") != ["json"] or "param" not in fields:
            return self._refuse("400", "schema=json and param required")
        param = json.loads(fields["param"][0])
        if param.get("key") != self.key:
            return self._refuse("600", "key invalid")
        if not param.get("number") or not (param.get("company") or
                                           param.get("parameters", {}).get("autoCom") == "1"):
            return self._refuse("700", "company and number required")
        parameters = param.get("parameters") or {}
        if not parameters.get("callbackurl") or not parameters.get("salt"):
            return self._refuse("700", "callbackurl and salt required here")
        if any(s["number"] == param["number"] and s.get("company") == param.get("company")
               for s in self.subscriptions):
            # The real service answers a repeated subscription like this.
            return 200, {"result": False, "returnCode": "501", "message": "重复订阅"}
        self.subscriptions.append(param)
        return 200, {"result": True, "returnCode": "200", "message": "提交成功"}

    def _refuse(self, code: str, message: str) -> tuple[int, dict[str, Any]]:
        self.refusals.append(message)
        return 200, {"result": False, "returnCode": code, "message": message}


@contextmanager
def aggregator(**kwargs: Any) -> Iterator[Aggregator]:
    agg = Aggregator(**kwargs)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                status, answer = agg.handle(self.path, self.headers.get("Content-Type", ""), raw)
            body = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    agg.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield agg
    finally:
        server.shutdown()
        server.server_close()
