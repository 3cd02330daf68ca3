"""The codec server protocol (Temporal Web UI, `temporal --codec-endpoint`): POST
`/codec/decode` and `/codec/encode` with `{"payloads": [...]}`, each payload in protobuf's JSON
form (`metadata` values and `data` base64), answered in the same form.

Decoding shows an order's personal data: auditors and admins only (the permission table,
`codec.decode`); encoding makes payloads a worker would accept, so admins only. The codec is
the API's own Temporal client's (shared/codec.py), so this endpoint reads what Waybill writes
and with the same keys. CORS: api/codec/cors.py. Each call is logged with who and how many.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payload, Payloads

from api.deps import Principal, SettingsDep, TemporalDep, require
from api.errors import ApiError
from config import Settings
from shared.codec import CodecError, payload_codec

log = logging.getLogger("waybill.api.codec")

router = APIRouter(prefix="/codec", tags=["codec"])

Decoder = Annotated[Principal, Depends(require("codec.decode"))]
Encoder = Annotated[Principal, Depends(require("codec.encode"))]

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


_EXAMPLE = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA==",
                                       "encryption-key-id": "azE="},
                          "data": "..."}]}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"description": "payload_too_large: one payload's data is over the limit"},
    422: {"description": "too_many_payloads, invalid_payload, payload_not_decodable, "
                         "namespace_not_served"},
}


@router.post("/decode", response_model=CodecBody, responses=_RESPONSES,
             description="Decrypt payloads (auditors and admins). Payloads not encrypted by "
                         "Waybill come back as they are.",
             openapi_extra={"requestBody": {"content": {"application/json": {
                 "example": _EXAMPLE}}}})
async def decode(body: CodecBody, who: Decoder, client: TemporalDep, settings: SettingsDep,
                 x_namespace: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    payloads = _read(body, settings, x_namespace)
    codec = payload_codec(client)
    try:
        opened = [codec.open(p) for p in payloads] if codec else payloads
    except CodecError as exc:
        raise ApiError(422, "payload_not_decodable", str(exc)) from None
    log.info("payloads decoded", extra={"by": who.name, "role": who.role.value,
                                        "payloads": len(payloads)})
    return _written(opened)


@router.post("/encode", response_model=CodecBody, responses=_RESPONSES,
             description="Encrypt payloads with the active key (admins).")
async def encode(body: CodecBody, who: Encoder, client: TemporalDep, settings: SettingsDep,
                 x_namespace: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    payloads = _read(body, settings, x_namespace)
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
