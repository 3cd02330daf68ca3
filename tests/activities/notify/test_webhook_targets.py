"""Webhook targets against SSRF (issue 14 §5): https outside development; private, loopback,
link-local, multicast, unspecified and reserved addresses refused when a subscription's URL is
set (422 webhook_target_forbidden) and again at delivery, after DNS, with the connection made to
the address that was checked; redirects are not followed."""

from __future__ import annotations

import ipaddress
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify.deliver import NotifierActivities
from activities.notify.webhook_channel import TARGET_REFUSED
from activities.notify.webhook_targets import (
    TargetForbidden,
    TargetPolicy,
    address_class,
    check_url,
    resolve_checked,
)
from config import Settings
from db.notifications.models import OutboxStatus, WebhookSubscription
from tests.support.api_harness import Api, StackFactory
from tests.support.notify_harness import webhook_receiver
from tests.support.outbox import (
    delay_risk,
    enqueue_now,
    rows,
    subscribe,
)
from workflows.notify.types import DeliverInput

CERTS = Path(__file__).parents[2] / "support" / "certs"  # loopback.pem: 127.0.0.1, localhost

STRICT = TargetPolicy(require_https=True, allow_private=False)
ON_PREMISE = TargetPolicy(require_https=True, allow_private=True)

REFUSED = {  # host as written in a URL -> the class it is refused as
    "169.254.169.254": "link_local", "[fe80::1]": "link_local",
    "10.0.0.1": "private", "172.16.5.4": "private", "192.168.1.1": "private",
    "100.64.0.1": "private", "[fd00::1]": "private",
    "0.0.0.0": "unspecified", "[::]": "unspecified", "0.1.2.3": "unspecified",
    "localhost": "loopback", "LOCALHOST.": "loopback", "api.localhost": "loopback",
    "127.0.0.1": "loopback", "[::1]": "loopback", "127.1": "loopback",
    "2130706433": "loopback", "0x7f000001": "loopback",
    "[::ffff:127.0.0.1]": "loopback", "[::ffff:169.254.169.254]": "link_local",
    "[64:ff9b::a00:1]": "private", "[2002:a00:1::]": "private",
    "224.0.0.1": "multicast", "[ff02::1]": "multicast", "239.255.255.250": "multicast",
    "240.0.0.1": "reserved", "255.255.255.255": "reserved",
}


# -- the rule -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("host", "kind"), REFUSED.items())
def test_every_non_public_address_class_is_refused(host: str, kind: str) -> None:
    with pytest.raises(TargetForbidden) as refused:
        check_url(f"https://{host}/hook", STRICT)
    assert refused.value.reason == f"{kind}_address"


@pytest.mark.parametrize("host", ["10.0.0.1", "[fd00::1]", "127.0.0.1", "localhost"])
def test_private_targets_pass_when_allowed(host: str) -> None:
    check_url(f"https://{host}/hook", ON_PREMISE)


@pytest.mark.parametrize("host", ["169.254.169.254", "0.0.0.0", "224.0.0.1", "[::]"])
def test_metadata_multicast_and_unspecified_stay_refused_when_private_is_allowed(
        host: str) -> None:
    with pytest.raises(TargetForbidden):
        check_url(f"https://{host}/hook", ON_PREMISE)


@pytest.mark.parametrize("url", ["https://hooks.example.com/w", "https://93.184.216.34:8443/w",
                                 "https://[2606:4700::1111]/w"])
def test_public_https_targets_pass(url: str) -> None:
    check_url(url, STRICT)


def test_http_is_refused_outside_development() -> None:
    with pytest.raises(TargetForbidden) as refused:
        check_url("http://hooks.example.com/w", STRICT)
    assert refused.value.reason == "https_required"
    check_url("http://hooks.example.com/w", TargetPolicy(require_https=False))


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    answers = {"good.test": ["93.184.216.34"], "inside.test": ["10.1.2.3"],
               "mixed.test": ["93.184.216.34", "169.254.169.254"]}

    def resolver(host: str, port: int) -> list[str]:
        return answers[host]

    assert resolve_checked("good.test", 443, STRICT, resolver) == \
        ipaddress.ip_address("93.184.216.34")
    for host in ("inside.test", "mixed.test"):
        with pytest.raises(TargetForbidden):
            resolve_checked(host, 443, STRICT, resolver)
    assert address_class(ipaddress.ip_address("8.8.8.8")) is None


# -- at creation, over the API ------------------------------------------------------------------

@pytest.fixture
async def strict_api(make_stack: StackFactory, db_url: str) -> AsyncIterator[Api]:
    """The API with the settings a production deployment has (the defaults)."""
    async with make_stack(db_url, worker=False,
                          webhooks_require_https=True,
                          webhooks_allow_private_targets=False) as stack:
        yield stack


async def test_creation_refuses_each_address_class_and_http(strict_api: Api) -> None:
    api = strict_api
    admin = api.auth("admin")
    body = {"event_types": ["order.shipped"]}
    for host, kind in REFUSED.items():
        got = await api.http.post("/v1/subscriptions", headers=admin,
                                  json={**body, "url": f"https://{host}/hook"})
        assert got.status_code == 422, (host, got.text)
        error = got.json()["error"]
        assert (error["code"], error["details"]["reason"]) == \
            ("webhook_target_forbidden", f"{kind}_address"), host
    plain = await api.http.post("/v1/subscriptions", headers=admin,
                                json={**body, "url": "http://hooks.example.com/w"})
    assert plain.json()["error"]["details"]["reason"] == "https_required"
    assert (await api.http.get("/v1/subscriptions", headers=admin)).json()["items"] == []

    made = await api.http.post("/v1/subscriptions", headers=admin,
                               json={**body, "url": "https://hooks.example.com/w"})
    assert made.status_code == 201, made.text
    moved = await api.http.patch(f"/v1/subscriptions/{made.json()['id']}", headers=admin,
                                 json={"url": "https://169.254.169.254/latest/meta-data/"})
    assert moved.status_code == 422
    assert moved.json()["error"]["code"] == "webhook_target_forbidden"
    kept = await api.http.get(f"/v1/subscriptions/{made.json()['id']}", headers=admin)
    assert kept.json()["url"] == "https://hooks.example.com/w"


# -- at delivery --------------------------------------------------------------------------------

def notifier(sessions: sessionmaker[Session], db_url: str, tmp_path: Path,
             resolver: Any = None, **settings: Any) -> NotifierActivities:
    settings = {"webhooks_require_https": False, "webhooks_allow_private_targets": False,
                **settings}
    config = Settings(database_url=db_url, data_dir=tmp_path, **settings)
    return NotifierActivities(sessions, config, *([resolver] if resolver else []))


def deliver(activities: NotifierActivities, row_id: str) -> str:
    return ActivityEnvironment().run(activities.deliver, DeliverInput(row_id, True))


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    """Accepted at creation (a name), refused when it resolves inside: nothing is sent, the
    delivery fails at once with the fixed message, and the subscription counts a failure."""
    asked: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["10.0.0.7"]

    sub_id, _ = subscribe(sessions, "http://hooks.example.test:8080/w")
    [row_id] = enqueue_now(sessions, [delay_risk(email=None)])
    assert deliver(notifier(sessions, db_url, tmp_path, resolver), row_id) == "failed"
    assert asked == [("hooks.example.test", 8080)]
    [row] = rows(sessions, [row_id])
    assert (row.status, row.last_error, row.last_http_status) == \
        (OutboxStatus.FAILED, TARGET_REFUSED, None)
    with sessions() as session:
        sub = session.get(WebhookSubscription, sub_id)
        assert sub is not None and sub.last_error == TARGET_REFUSED


def test_the_request_goes_to_the_checked_address(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    """The name is resolved once, by the seam, and the connection made to that address (the
    name itself resolves nowhere): a later DNS answer cannot switch it."""
    with webhook_receiver() as receiver:
        port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        sub_id, receiver.secret = subscribe(sessions, f"http://receiver.invalid:{port}/hooks")
        [row_id] = enqueue_now(sessions, [delay_risk(email=None)])
        activities = notifier(sessions, db_url, tmp_path, lambda h, p: ["127.0.0.1"],
                              webhooks_allow_private_targets=True)
        assert deliver(activities, row_id) == "delivered"
    [got] = receiver.requests
    assert got.signature_ok and got.headers["Host"] == f"receiver.invalid:{port}"


@pytest.mark.parametrize("where", ["127.0.0.1", "localhost"])
def test_a_local_receiver_is_refused_at_delivery_without_the_setting(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path, where: str) -> None:
    """A row written while private targets were allowed (or for a URL changed in the
    database) is checked again with the real resolver: nothing reaches the receiver."""
    with webhook_receiver() as receiver:
        sub_id, receiver.secret = subscribe(sessions, receiver.url.replace("127.0.0.1", where))
        [row_id] = enqueue_now(sessions, [delay_risk(email=None)])
        activities = notifier(sessions, db_url, tmp_path, webhooks_allow_private_targets=False)
        assert deliver(activities, row_id) == "failed"
    assert receiver.requests == []
    [row] = rows(sessions, [row_id])
    assert (row.status, row.last_error) == (OutboxStatus.FAILED, TARGET_REFUSED)


@contextmanager
def redirecting_to(location: str) -> Iterator[tuple[str, list[str]]]:
    """A receiver answering every POST with 302 to `location` and a body that must not be
    kept; yields its URL and the paths it was asked for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = b"secret internal page"
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", hits
    finally:
        server.shutdown()
        server.server_close()


def test_a_redirect_is_not_followed(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path) -> None:
    with webhook_receiver() as inside, redirecting_to(inside.url) as (url, hits):
        subscribe(sessions, url)
        [row_id] = enqueue_now(sessions, [delay_risk(email=None)])
        activities = notifier(sessions, db_url, tmp_path, webhooks_allow_private_targets=True)
        with pytest.raises(ApplicationError, match="webhook answered 302"):
            deliver(activities, row_id)  # a failed attempt, retried later
    assert hits == ["/hook"] and inside.requests == []
    [row] = rows(sessions, [row_id])
    assert (row.status, row.last_http_status, row.last_error) == \
        (OutboxStatus.PENDING, 302, "webhook answered 302")


@contextmanager
def tls_receiver() -> Iterator[tuple[int, list[str]]]:
    """An https receiver on 127.0.0.1 whose certificate names `localhost`; yields its port and
    the Host header of each request."""
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            hosts.append(self.headers.get("Host", ""))
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(CERTS / "loopback.pem", CERTS / "loopback.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], hosts
    finally:
        server.shutdown()
        server.server_close()


def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(
        sessions: sessionmaker[Session], db_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """https to the checked address still verifies the certificate against the URL's name
    (sent as SNI): the right name is delivered, a name the certificate does not hold is not."""
    monkeypatch.setenv("SSL_CERT_FILE", str(CERTS / "loopback.pem"))  # trust the test's CA
    with tls_receiver() as (port, hosts):
        good_sub, _ = subscribe(sessions, f"https://localhost:{port}/hooks")
        [good] = enqueue_now(sessions, [delay_risk(email=None)])
        activities = notifier(sessions, db_url, tmp_path, lambda h, p: ["127.0.0.1"],
                              webhooks_require_https=True, webhooks_allow_private_targets=True)
        assert deliver(activities, good) == "delivered"
        assert hosts == [f"localhost:{port}"]
        with sessions.begin() as session:
            sub = session.get(WebhookSubscription, good_sub)
            assert sub is not None
            sub.url = f"https://impostor.test:{port}/hooks"
        [other] = enqueue_now(sessions, [delay_risk(email=None)])
        with pytest.raises(ApplicationError, match="webhook ConnectError"):
            deliver(activities, other)
    assert hosts == [f"localhost:{port}"]
