"""The codec server protocol's work, shared by the key-admitted `/codec/` routes
(api/codec/router.py) and the console-session ones for the Web UI (console/codec/routes.py):
bounds, decoding and encoding with the API's own Temporal client's codec, a log line per call."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client

from api.deps import Principal
from api.errors import ApiError
from config import Settings
from shared.codec import CodecError, payload_codec

log = logging.getLogger("waybill.api.codec")

# Schema bounds (settings bound the count and the decoded size further): a payload's metadata
# is a few short keys; its data at most Temporal's 2 MiB blob limit, in base64.
_MAX_METADATA = 16
_MAX_DATA_CHARS = 4 * 1024 * 1024


class JsonPayload(BaseModel):
    metadata: dict[str, Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=dict, max_length=_MAX_METADATA,
        description="base64 values, e.g. `encoding`")
    data: str = Field(default="", max_length=_MAX_DATA_CHARS, description="base64")


class CodecBody(BaseModel):
    payloads: list[JsonPayload] = Field(default_factory=list)


def decode_payloads(body: CodecBody, who: Principal, client: Client, settings: Settings,
                    namespace: str | None) -> dict[str, Any]:
    """Decode for `who` (already admitted): the key's route and the console session's share it."""
    payloads = _read(body, settings, namespace)
    codec = payload_codec(client)
    try:
        opened = [codec.open(p) for p in payloads] if codec else payloads
    except CodecError as exc:
        raise ApiError(422, "payload_not_decodable", str(exc)) from None
    log.info("payloads decoded", extra={"by": who.name, "role": who.role.value,
                                        "payloads": len(payloads)})
    return _written(opened)


def encode_payloads(body: CodecBody, who: Principal, client: Client, settings: Settings,
                    namespace: str | None) -> dict[str, Any]:
    payloads = _read(body, settings, namespace)
    codec = payload_codec(client)
    log.info("payloads encoded", extra={"by": who.name, "payloads": len(payloads)})
    return _written([codec.seal(p) for p in payloads] if codec else payloads)


def _read(body: CodecBody, settings: Settings, namespace: str | None) -> list[Payload]:
    if namespace is not None and namespace != settings.temporal_namespace:
        raise ApiError(422, "namespace_not_served",
                       f"this endpoint serves namespace {settings.temporal_namespace!r} only",
                       namespace=namespace[:200])
    if len(body.payloads) > settings.codec_max_payloads:
        raise ApiError(422, "too_many_payloads",
                       f"at most {settings.codec_max_payloads} payloads per call",
                       limit=settings.codec_max_payloads, given=len(body.payloads))
    read = []
    for index, item in enumerate(body.payloads):
        try:
            payload = json_format.ParseDict(item.model_dump(), Payload())
        except json_format.ParseError:
            raise ApiError(422, "invalid_payload", "metadata values and data must be base64",
                           index=index) from None
        if len(payload.data) > settings.codec_max_payload_bytes:
            raise ApiError(413, "payload_too_large",
                           f"a payload's data is at most {settings.codec_max_payload_bytes} "
                           "bytes", index=index, limit=settings.codec_max_payload_bytes)
        read.append(payload)
    return read


def _written(payloads: list[Payload]) -> dict[str, Any]:
    return json_format.MessageToDict(Payloads(payloads=payloads))
