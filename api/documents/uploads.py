"""Reading one uploaded document from a multipart request, with every check done before storing.

Reused by every endpoint that takes a document (receipts, claim evidence): the caller gets the
bytes, their SHA-256 and the type their magic bytes show, or a 4xx ApiError.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from api.errors import ApiError
from archive import ALLOWED_TYPES, sniff_content_type

# Room for the multipart boundaries and part headers around the file itself.
_ENVELOPE_SLACK = 64 * 1024
_CHUNK = 256 * 1024
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\"\\]")


@dataclass(frozen=True)
class Upload:
    data: bytes
    sha256: str
    content_type: str  # from the magic bytes, never from the client
    filename: str | None
    claimed_type: str | None
    # The form's text fields beside the file, e.g. a claim document's `kind`.
    fields: dict[str, str] = dataclasses.field(default_factory=dict)


def multipart_body(field: str = "file", description: str = "the document") -> dict[str, Any]:
    """`openapi_extra` for an endpoint that reads its body with `read_upload`."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": [field],
        "properties": {field: {"type": "string", "format": "binary",
                               "description": f"{description}: PDF, JPEG or PNG"}}}}}}}


async def read_upload(request: Request, max_bytes: int, field: str = "file") -> Upload:
    """The file in multipart field `field`: at most `max_bytes`, non-empty, PDF/JPEG/PNG.

    The request body is read as it arrives and reading stops once it cannot fit the limit,
    so an oversized upload costs at most `max_bytes` plus a little.
    """
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(422, "missing_file",
                       f"send the document as multipart/form-data in field {field!r}",
                       field=field)
    cap = max_bytes + _ENVELOPE_SLACK
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(max_bytes)
    parser = MultiPartParser(request.headers, _capped(request.stream(), cap, max_bytes),
                             max_files=1, max_fields=20)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ApiError(422, "invalid_multipart", f"the multipart body is not valid: {exc}",
                       field=field) from None
    try:
        part = form.get(field)
        if not isinstance(part, UploadFile):
            raise ApiError(422, "missing_file", f"no file in multipart field {field!r}",
                           field=field)
        data = await _read_at_most(part, max_bytes)
        filename, claimed = clean_filename(part.filename), part.content_type
        texts = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    finally:
        await form.close()
    if not data:
        raise ApiError(422, "empty_file", "the uploaded file is empty", field=field)
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ApiError(415, "unsupported_media_type",
                       "the file is not a PDF, JPEG or PNG document", claimed_type=claimed,
                       filename=filename, allowed=sorted(ALLOWED_TYPES))
    return Upload(data=data, sha256=hashlib.sha256(data).hexdigest(),
                  content_type=content_type, filename=filename, claimed_type=claimed,
                  fields=texts)


def clean_filename(name: str | None) -> str | None:
    """The base name only, without control characters or quotes; None if nothing is left."""
    if not name:
        return None
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("", base).strip().lstrip(".")
    return base[:255] or None


async def _capped(stream: AsyncIterator[bytes], cap: int,
                  max_bytes: int) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > cap:
            raise _too_large(max_bytes)
        yield chunk


async def _read_at_most(part: UploadFile, max_bytes: int) -> bytes:
    chunks, size = [], 0
    while chunk := await part.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "file_too_large", f"the file is larger than {max_bytes} bytes",
                    max_bytes=max_bytes)
