"""Real receivers for notification tests: an HTTP webhook endpoint and an SMTP server.

Both listen on 127.0.0.1 only. Run as `python -m tests.support.notify_harness` it is an
activity-only notifier worker, for the test that kills a worker in the middle of a delivery.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from temporalio.client import Client
from temporalio.worker import Worker

from activities.notify.deliver import NotifierActivities
from activities.notify.webhook_signing import EVENT_HEADER, ID_HEADER, verify
from config import Settings
from db.engine import make_engine, session_factory
from tests.support.codec import TEST_CONVERTER
from tests.support.notify_workflow import DeliverAllInput, DeliverAllWorkflow
from tests.support.pg import free_port
from workflows.ids import delivery_workflow_id

# -- webhook receiver -----------------------------------------------------------------------


@dataclass
class Received:
    delivery_id: str  # the webhook-id header
    event_type: str
    body: dict[str, Any]
    signature_ok: bool
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes = b""


@dataclass
class WebhookReceiver:
    """Checks each request's signature, answers per its mode and records what arrived.

    fail_first: answer 500 to that many requests first; always_fail: answer 500 to all;
    hold: wait (after recording the request as arrived) until `release` is set; answer: the
    body of every answer.
    """

    secret: str = ""
    fail_first: int = 0
    always_fail: bool = False
    hold: bool = False
    answer: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> list[str]:
        """Delivery ids of the requests answered 2xx, i.e. the messages the receiver took."""
        return [r.delivery_id for r in self.requests if 200 <= r.status < 300]

    def _handle(self, handler: BaseHTTPRequestHandler) -> int:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        headers = dict(handler.headers.items())
        ok = verify(self.secret, headers, raw)
        with self._lock:
            if not ok:
                status = 400
            elif self.always_fail or len(self.requests) < self.fail_first:
                status = 500
            else:
                status = 200
            self.requests.append(Received(
                delivery_id=handler.headers.get(ID_HEADER, ""),
                event_type=handler.headers.get(EVENT_HEADER, ""),
                body=json.loads(raw), signature_ok=ok, status=status, headers=headers,
                raw=raw))
        self.arrived.set()
        if self.hold:
            self.release.wait(60)
        return status


@contextmanager
def webhook_receiver(**kwargs: Any) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(**kwargs)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            status = receiver._handle(self)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)
            except OSError:
                pass  # the sender is gone (the test killed it)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/waybill"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


# -- SMTP server ----------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse_rcpt: str | None = None  # e.g. "550 5.1.1 no such user"
    drop_after_data: int = 0  # take that many messages, then hang up before saying so

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any,  # noqa: N802 (aiosmtpd's naming)
                          envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        raw = envelope.original_content or b""
        self.messages.append(message_from_bytes(raw, policy=policy.default))  # type: ignore[arg-type]
        if self.drop_after_data > 0:
            self.drop_after_data -= 1
            server.transport.close()  # the sender never hears that it arrived
        return "250 Message accepted for delivery"


CERT_DIR = Path(__file__).parent / "certs"
LOOPBACK_CERT = CERT_DIR / "loopback.pem"  # self-signed for 127.0.0.1; trust it as the CA


@contextmanager
def smtp_server(username: str | None = None, password: str | None = None,
                refuse_rcpt: str | None = None, tls: str = "none"
                ) -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1.

    tls: "none", "starttls" (required before MAIL and AUTH) or "ssl" (implicit TLS), with
    LOOPBACK_CERT. With credentials it requires AUTH (after STARTTLS, unless tls is "none").
    """
    box = Mailbox(refuse_rcpt=refuse_rcpt)
    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(LOOPBACK_CERT, CERT_DIR / "loopback.key")
        kwargs = ({"tls_context": context, "require_starttls": True} if tls == "starttls"
                  else {"ssl_context": context})
    if username:
        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         auth_data: Any) -> AuthResult:
            good = (isinstance(auth_data, LoginPassword)
                    and auth_data.login.decode() == username
                    and auth_data.password.decode() == password)
            if good:
                box.logins.append(username)
            return AuthResult(success=good)

        kwargs |= {"auth_required": True, "auth_require_tls": tls != "none",
                   "authenticator": authenticate}
    controller = Controller(box, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


# -- workers --------------------------------------------------------------------------------


@asynccontextmanager
async def notifier_worker(client: Client, db_url: str, task_queue: str, settings: Settings,
                          workflows: bool = True, activities: bool = True
                          ) -> AsyncIterator[Worker]:
    """A worker with the test workflow and/or the notifier activity."""
    engine = make_engine(db_url)
    notifier = NotifierActivities(session_factory(engine), settings)
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = Worker(client, task_queue=task_queue,
                        workflows=[DeliverAllWorkflow] if workflows else [],
                        activities=[notifier.deliver] if activities else [],
                        activity_executor=executor)
        async with worker:
            yield worker
    engine.dispose()


async def await_deliveries(client: Client, outbox_ids: list[str]) -> list[str]:
    """The results of the rows' DeliveryWorkflows (their latest runs), in order."""
    return [await client.get_workflow_handle(delivery_workflow_id(i), result_type=str).result()
            for i in outbox_ids]


async def deliver_all(client: Client, task_queue: str, ids: list[str],
                      **options: Any) -> list[str]:
    return await client.execute_workflow(
        DeliverAllWorkflow.run, DeliverAllInput(outbox_ids=ids, **options),
        id=f"deliver-{uuid.uuid4().hex[:10]}", task_queue=task_queue)


async def _serve(target: str, task_queue: str) -> None:
    client = await Client.connect(target, data_converter=TEST_CONVERTER)
    settings = Settings()
    async with notifier_worker(client, settings.db_url, task_queue, settings, workflows=False):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    assert os.environ.get("WAYBILL_DATABASE_URL"), "set WAYBILL_DATABASE_URL"
    asyncio.run(_serve(sys.argv[1], sys.argv[2]))
