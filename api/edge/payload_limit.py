"""Refuse a workflow input Temporal would refuse, before it is sent.

Temporal fails a workflow task whose payloads pass its blob limit (2 MiB by default), and the
workflow then fails every update for a while: the caller sees 503s that invite retries. Here the
encoded input of a workflow start or update is measured first, with the converter the client
uses (shared/payloads.py: pydantic, by the type's schema, a tenth of the default converter's
cost per event), and refused with 413 `payload_too_large` past `max_workflow_payload_bytes` (default
512 KiB, well under the limit, leaving room for the state the workflow adds to it).
"""

from __future__ import annotations

from typing import Any

from api.errors import ApiError
from config import Settings
from shared.payloads import DATA_CONVERTER


def encoded_size(value: Any) -> int:
    """Bytes of `value` as the Temporal client sends it."""
    [payload] = DATA_CONVERTER.payload_converter.to_payloads([value])
    return payload.ByteSize()


def check_payload(settings: Settings, value: Any, what: str) -> None:
    """413 payload_too_large if `value` (a workflow or update input) is too large to send."""
    size = encoded_size(value)
    if size > settings.max_workflow_payload_bytes:
        raise ApiError(413, "payload_too_large",
                       f"the {what} is too large for the workflow service: {size} bytes",
                       size_bytes=size, max_bytes=settings.max_workflow_payload_bytes)
