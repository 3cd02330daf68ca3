"""Archiving an uploaded document and serving an archived one back, for every document endpoint.

Receipts and claim evidence share this so that an archive failure maps to the same error codes
and a served document carries the same integrity and caching headers wherever it comes from.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import Response
from fastapi.concurrency import run_in_threadpool

from api.documents.uploads import Upload
from api.edge.units import Db
from api.errors import ApiError
from archive import Archive, ArchiveError, DocumentCorrupt, DocumentMissing, sniff_content_type
from db.documents import queries as documents

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# Every extension a type's files go by; a download name ending otherwise gets the first.
_TYPE_EXTENSIONS = {"application/pdf": ("pdf",), "image/jpeg": ("jpg", "jpeg"),
                    "image/png": ("png",)}
# The 200 `content` of a download endpoint's OpenAPI responses.
DOCUMENT_CONTENT: dict[str, Any] = {t: {} for t in EXTENSIONS}


def default_filename(stem: str, content_type: str) -> str:
    """A download name for a document uploaded without one."""
    return f"{stem}.{EXTENSIONS.get(content_type, 'bin')}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def verified_headers(sha256: str) -> dict[str, str]:
    """Headers of a served document: its bytes never change under its hash, so cache forever."""
    return {"ETag": f'"{sha256}"', "X-Content-SHA256": sha256,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=31536000, immutable"}


async def archive_and_record(db: Db, archive: Archive, upload: Upload, actor: str,
                             log: logging.Logger, order_id: str) -> tuple[str, bool]:
    """Store the bytes, then their `documents` row (linked to `order_id`'s audit chain),
    committed before any event may name them.

    Returns the archive's sha256 and whether this call added the row. A refused upload keeps
    its row: the archive does hold the bytes, and the table is append-only (issue 17).
    """
    sha = await _put(archive, upload, log)
    added = await db.run(documents.record, sha, upload.content_type, len(upload.data), actor,
                         order_id)
    return sha, added


async def fetch_verified(archive: Archive, sha256: str, where: dict[str, Any],
                         log: logging.Logger, *, noun: str, log_noun: str | None = None) -> bytes:
    """The archived bytes, checked against their hash; corrupt or missing bytes are never served.

    `noun` names the document in the client's error message, `log_noun` in the log line; `log`
    is the endpoint's own logger, so its alerts keep their name.
    """
    log_noun = log_noun or noun
    try:
        return await run_in_threadpool(archive.get, sha256)
    except DocumentCorrupt as exc:
        log.error(f"archived {log_noun} is corrupt", extra={**where, "error": str(exc)})
        raise ApiError(500, "document_corrupt", f"the archived {noun} no longer matches its "
                       "hash; it is not served", **where) from None
    except DocumentMissing as exc:
        log.error(f"archived {log_noun} is missing", extra={**where, "error": str(exc)})
        raise ApiError(500, "document_missing", f"the archive does not hold this {noun}",
                       **where) from None
    except ArchiveError as exc:
        log.error("archive get failed", extra={**where, "error": str(exc)})
        raise ApiError(503, "archive_unavailable", "the document archive did not answer",
                       **where) from None


def download_name(filename: str, content_type: str) -> str:
    """`filename` with an extension that says what the bytes are: a PDF uploaded as
    `poly.html` downloads as `poly.html.pdf`, so nothing opens it as a web page."""
    wanted = _TYPE_EXTENSIONS.get(content_type, ("bin",))
    stem, dot, ext = filename.rpartition(".")
    if dot and stem and ext.lower() in wanted:
        return filename
    return f"{filename}.{wanted[0]}"


def serve(data: bytes, filename: str, headers: dict[str, str]) -> Response:
    """An archived document as an attachment. Its type is sniffed from the bytes served, never
    taken from what the uploader said or what was stored beside it, and the name's extension
    made to match; `nosniff` stops a browser guessing another type."""
    content_type = sniff_content_type(data) or "application/octet-stream"
    return Response(content=data, media_type=content_type, headers={
        **headers, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": content_disposition(download_name(filename, content_type))})


async def _put(archive: Archive, upload: Upload, log: logging.Logger) -> str:
    try:
        return await run_in_threadpool(archive.put, upload.data)
    except ArchiveError as exc:
        log.error("archive put failed", extra={"sha256": upload.sha256, "error": str(exc)})
        raise ApiError(503, "archive_unavailable", "the document archive did not take the file",
                       sha256=upload.sha256) from None
