"""The codec server protocol (Temporal Web UI, `temporal --codec-endpoint`): POST
`/codec/decode` and `/codec/encode` with `{"payloads": [...]}`, each payload in protobuf's JSON
form (`metadata` values and `data` base64), answered in the same form.

Decoding shows an order's personal data: auditors and admins only (the permission table,
`codec.decode`); encoding makes payloads a worker would accept, so admins only. The codec is
the API's own Temporal client's (shared/codec.py), so this endpoint reads what Waybill writes
and with the same keys (api/codec/service.py). CORS: api/codec/cors.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header

from api.codec.service import CodecBody, decode_payloads, encode_payloads
from api.deps import Principal, SettingsDep, TemporalDep, require

router = APIRouter(prefix="/codec", tags=["codec"])

Decoder = Annotated[Principal, Depends(require("codec.decode"))]
Encoder = Annotated[Principal, Depends(require("codec.encode"))]

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
    return decode_payloads(body, who, client, settings, x_namespace)


@router.post("/encode", response_model=CodecBody, responses=_RESPONSES,
             description="Encrypt payloads with the active key (admins).")
async def encode(body: CodecBody, who: Encoder, client: TemporalDep, settings: SettingsDep,
                 x_namespace: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    return encode_payloads(body, who, client, settings, x_namespace)
