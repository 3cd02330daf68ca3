"""What every archive backend promises, and the checks shared by all of them."""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

ALLOWED_TYPES = {"application/pdf", "image/jpeg", "image/png"}

_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ArchiveError(Exception):
    """The archive could not do what was asked (storage unreachable, misconfigured...)."""


class DocumentMissing(ArchiveError):
    """No blob is stored under this hash."""


class DocumentCorrupt(ArchiveError):
    """The stored bytes no longer hash to their name: the blob was changed after it was put."""


class Archive(Protocol):
    """Content-addressed, write-once storage: a blob's name is the SHA-256 of its bytes."""

    def put(self, data: bytes) -> str:
        """Store `data` and return its sha256 hex; storing the same bytes again is a no-op."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256`, verified against it on every read."""
        ...

    def exists(self, sha256: str) -> bool: ...


def sniff_content_type(data: bytes) -> str | None:
    """The document type from its leading magic bytes; what a client claims is never trusted."""
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_name(sha256: str) -> str:
    """A blob name must be a lowercase sha256 hex: anything else could escape the store."""
    if not _SHA256.fullmatch(sha256):
        raise DocumentMissing(f"not a sha256 hex digest: {sha256[:80]!r}")
    return sha256


def verified(sha256: str, data: bytes) -> bytes:
    actual = digest(data)
    if actual != sha256:
        raise DocumentCorrupt(f"blob {sha256} now hashes to {actual}")
    return data
