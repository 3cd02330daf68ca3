"""A local webhook receiver: records every delivery, its id and whether its signature holds.

It understands both the current headers (`Waybill-Delivery`, `Waybill-Signature: t=..,v1=..`)
and Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`),
so the soak judges the notifier the same way before and after it moves to the standard.

A request whose body ends before its Content-Length is not a delivery: its sender stopped
mid-request (a worker SIGKILLed between writing the head and the body) and got no answer, so
it sends again. It is counted as `incomplete`, as any web framework would drop it, and never
judged by its signature (the signature is over the whole body).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.pg import free_port


@dataclass(frozen=True)
class Delivery:
    at: float  # time.monotonic()
    delivery_id: str | None
    scheme: str  # "standard" (webhook-id) or "waybill" (Waybill-Delivery)
    event_type: str | None
    body_id: str | None
    order_id: str | None
    signature: str  # "ok", "bad" or "missing"


def _standard_keys(secret: str) -> list[bytes]:
    # Standard Webhooks keys are `whsec_<base64>`; some senders sign with the text itself.
    keys = [secret.encode()]
    if secret.startswith("whsec_"):
        with contextlib.suppress(binascii.Error, ValueError):
            keys.insert(0, base64.b64decode(secret.removeprefix("whsec_"), validate=True))
    return keys


def verify_standard(secret: str, msg_id: str, timestamp: str, header: str, body: bytes) -> bool:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    given = [part.partition(",")[2] for part in header.split() if part.startswith("v1,")]
    for key in _standard_keys(secret):
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, g) for g in given):
            return True
    return False


def verify_waybill(secret: str, header: str, body: bytes) -> bool:
    fields = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for name, _, value in fields if name == "t"]
    given = [value for name, _, value in fields if name == "v1"]
    if len(stamps) != 1:
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, g) for g in given)


class Receiver:
    """A threaded HTTP server on a free loopback port; answers 200 after `delay` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.port = free_port()
        self.delay = delay
        self.secret: str | None = None  # set once the subscription exists; never logged
        self.deliveries: list[Delivery] = []
        self.incomplete = 0  # requests cut short by their sender: no answer, not recorded
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the sender is gone: nobody to answer
                    receiver.count_incomplete()
                    self.close_connection = True
                    return
                receiver.record(dict(self.headers.items()), body)
                if receiver.delay:
                    time.sleep(receiver.delay)  # a receiver doing some work before its 2xx
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass  # one line per delivery would drown the soak's own log

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which may not run
            self._server.shutdown()
        self._server.server_close()

    def record(self, headers: dict[str, str], body: bytes) -> None:
        h = {k.lower(): v for k, v in headers.items()}
        if "webhook-id" in h:
            delivery_id, scheme = h["webhook-id"], "standard"
        else:
            delivery_id, scheme = h.get("waybill-delivery"), "waybill"
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
        self._append(Delivery(
            at=time.monotonic(), delivery_id=delivery_id, scheme=scheme,
            event_type=payload.get("type") or h.get("waybill-event"),
            body_id=payload.get("id"), order_id=payload.get("order_id"),
            signature=self._signature(h, body)))

    def _signature(self, h: dict[str, str], body: bytes) -> str:
        secret = self.secret
        if "webhook-signature" in h:
            if secret is None:
                return "bad"
            ok = verify_standard(secret, h.get("webhook-id", ""), h.get("webhook-timestamp", ""),
                                 h["webhook-signature"], body)
            return "ok" if ok else "bad"
        if "waybill-signature" in h:
            if secret is None:
                return "bad"
            return "ok" if verify_waybill(secret, h["waybill-signature"], body) else "bad"
        return "missing"

    def count_incomplete(self) -> None:
        with self._lock:
            self.incomplete += 1

    def _append(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries.append(delivery)

    def snapshot(self) -> list[Delivery]:
        with self._lock:
            return list(self.deliveries)
