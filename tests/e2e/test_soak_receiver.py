"""The soak's webhook receiver judges what a sender delivered, not what a killed sender began."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from activities.notify.webhook_signing import sign_headers
from bench.soak_receiver import Receiver

SECRET = "whsec_" + "c29hay1yZWNlaXZlci1zZWNyZXQtb2YtdGhpcnR5LXR3bw=="


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.secret = SECRET
    r.start()
    yield r
    r.stop()


def test_a_signed_delivery_is_recorded_as_verified(receiver: Receiver) -> None:
    body = b'{"id": "evt-1", "type": "order.confirmed", "order_id": "O-1"}'
    answer = httpx.post(receiver.url, content=body,
                        headers=sign_headers([SECRET], "msg-1", body), timeout=5)
    assert answer.status_code == 200
    [delivery] = receiver.snapshot()
    assert (delivery.delivery_id, delivery.signature, delivery.body_id) == ("msg-1", "ok", "evt-1")


def test_a_request_cut_off_before_its_body_ends_is_not_a_delivery(receiver: Receiver) -> None:
    # What a worker SIGKILLed between writing the head and the body leaves behind.
    body = b'{"id": "evt-2", "type": "order.picked", "order_id": "O-2"}'
    head = "".join(f"{k}: {v}\r\n" for k, v in sign_headers([SECRET], "msg-2", body).items())
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as sock:
        sock.sendall(f"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
                     f"{head}\r\n".encode() + body[:10])
        sock.shutdown(socket.SHUT_WR)
        # No answer (the sender is gone and will send again); the receiver closes once counted.
        assert sock.recv(100) == b""
    assert receiver.incomplete == 1
    assert receiver.snapshot() == []
