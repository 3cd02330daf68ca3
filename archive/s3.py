"""The archive in an S3-compatible bucket under sha256/<hash>, written once, verified on read."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from archive.base import ArchiveError, DocumentMissing, check_name, digest, verified

_MISSING = {"404", "NoSuchKey", "NotFound"}
_EXISTS = {"412", "PreconditionFailed", "ConditionalRequestConflict"}


class S3Archive:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    def __repr__(self) -> str:  # never the client: its config holds the credentials
        return f"S3Archive(bucket={self.bucket!r})"

    @staticmethod
    def key_of(sha256: str) -> str:
        return f"sha256/{check_name(sha256)}"

    def put(self, data: bytes) -> str:
        name = digest(data)
        if self.exists(name):
            return name
        checksum = base64.b64encode(hashlib.sha256(data).digest()).decode()
        try:
            # If-None-Match makes the write conditional where the store supports it, so a
            # concurrent put cannot replace an object that appeared after the check above.
            self.client.put_object(Bucket=self.bucket, Key=self.key_of(name), Body=data,
                                   ChecksumSHA256=checksum, IfNoneMatch="*")
        except ClientError as exc:
            if _code(exc) not in _EXISTS:
                raise _failed("put", name, exc) from None
        except BotoCoreError as exc:
            raise _failed("put", name, exc) from None
        return name

    def get(self, sha256: str) -> bytes:
        key = self.key_of(sha256)
        try:
            data = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise DocumentMissing(f"no blob {sha256}") from None
            raise _failed("get", sha256, exc) from None
        except BotoCoreError as exc:
            raise _failed("get", sha256, exc) from None
        return verified(sha256, data)

    def exists(self, sha256: str) -> bool:
        try:
            key = self.key_of(sha256)
        except DocumentMissing:
            return False
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise _failed("head", sha256, exc) from None
        except BotoCoreError as exc:
            raise _failed("head", sha256, exc) from None
        return True


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _failed(op: str, sha256: str, exc: Exception) -> ArchiveError:
    # Only the error's class and code: botocore messages never carry keys, but keep it that way.
    code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
    return ArchiveError(f"S3 {op} of {sha256} failed: {code}")
