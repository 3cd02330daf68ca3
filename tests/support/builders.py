"""Builders for workflow inputs and events used across the tests."""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any

from config import DEFAULT_POLICY_FILE
from demo.documents import one_page_pdf
from policies import DURATION_KEYS, load_policies
from workflows.order.types import Customer, EventInput, EventType, Line, OrderInput, Tier
from workflows.policy import SlaPolicy

POLICIES = load_policies(DEFAULT_POLICY_FILE)
STANDARD = POLICIES["standard"]


def order_input(now: datetime, order_id: str | None = None, policy: SlaPolicy = STANDARD,
                ship_in: timedelta = timedelta(days=3),
                deliver_in: timedelta = timedelta(days=6),
                lines: list[Line] | None = None) -> OrderInput:
    return OrderInput(
        order_id=order_id or f"SO-{uuid.uuid4().hex[:8]}",
        customer=Customer(id="C-88", name="Sanghong Apparel", tier=Tier.STANDARD),
        lines=lines or [Line("SKU-1", 10), Line("SKU-2", 4)],
        destination={"address": "1 Road", "city": "Shanghai", "contact": "Li"},
        promised_ship_by=now + ship_in,
        promised_delivery_by=now + deliver_in,
        policy=policy,
        received_at=now,
        actor="test-operator",
        source="operator",
    )


def event(type_: EventType | str, occurred_at: datetime, data: dict[str, Any] | None = None,
          event_id: str | None = None) -> EventInput:
    data = data or {}
    body = json.dumps({"type": str(type_), "data": data, "at": occurred_at.isoformat()},
                      sort_keys=True)
    return EventInput(event_id=event_id or f"ev-{uuid.uuid4().hex[:10]}",
                      type=EventType(type_), occurred_at=occurred_at, data=data,
                      actor="test-integration", source="integration",
                      body_hash=hashlib.sha256(body.encode()).hexdigest())


FULL_PICK = {"lines": [{"sku": "SKU-1", "qty": 10}, {"sku": "SKU-2", "qty": 4}]}
SHIP = {"carrier": "SF Express", "tracking_no": "SF123", "vehicle": "沪A-1234"}
POD = {"signer": "Li Lei", "condition": "intact", "pod": {"kind": "signature", "ref": "sig-1"}}
RECEIPT = {"document": {"ref": "receipts/abc.pdf", "sha256": "a" * 64}}
SURVEY = {"scores": {"timeliness": 5, "courtesy": 4}, "comment": "fine"}


def policy_yaml(**durations: str) -> str:
    """A policy file with one policy, `standard`: every duration PT1H unless given."""
    body = "".join(f"    {k}: {durations.get(k, 'PT1H')}\n" for k in DURATION_KEYS)
    return f"policies:\n  standard:\n{body}"


def minimal_pdf(text: str = "Receipt signed by Li Lei") -> bytes:
    return one_page_pdf(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode(), 300, 200)


def minimal_png(width: int = 4, height: int = 3, shade: int = 200) -> bytes:
    """A greyscale PNG: signature, IHDR, one zlib IDAT, IEND, each chunk with its CRC."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
