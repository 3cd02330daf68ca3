"""Reading an import file from a multipart request (field `file`), bounded before it is parsed.

Like api/documents/uploads.py (receipts and claim documents) but for CSV and XLSX text, whose
type is decided by api/imports/parse.py, not by document magic bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from api.documents.uploads import clean_filename
from api.errors import ApiError

_ENVELOPE_SLACK = 64 * 1024
_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ImportFile:
    data: bytes
    filename: str | None
    fields: dict[str, str] = field(default_factory=dict)  # e.g. the console's csrf token


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "file_too_large", f"the file is larger than {max_bytes} bytes",
                    max_bytes=max_bytes)


async def read_import_file(request: Request, max_bytes: int,
                           name: str = "file") -> ImportFile:
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(422, "missing_file",
                       f"send the file as multipart/form-data in field {name!r}", field=name)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + _ENVELOPE_SLACK:
        raise too_large(max_bytes)
    try:
        form = await request.form(max_files=1, max_fields=10)
    except HTTPException as exc:
        raise ApiError(422, "invalid_multipart", f"the multipart body is not valid: "
                       f"{exc.detail}", field=name) from None
    try:
        part = form.get(name)
        if not isinstance(part, UploadFile):
            raise ApiError(422, "missing_file", f"no file in multipart field {name!r}",
                           field=name)
        chunks, size = [], 0
        while chunk := await part.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            chunks.append(chunk)
        texts = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        filename = clean_filename(part.filename)
    finally:
        await form.close()
    return ImportFile(b"".join(chunks), filename, texts)
