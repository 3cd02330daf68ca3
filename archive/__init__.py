"""Content-addressed, write-once document archive (receipts, claim evidence).

Backends: a local directory (default) and an S3-compatible bucket, chosen by settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.base import (
    ALLOWED_TYPES,
    Archive,
    ArchiveError,
    DocumentCorrupt,
    DocumentMissing,
    sniff_content_type,
)

if TYPE_CHECKING:
    from config import Settings

__all__ = ["ALLOWED_TYPES", "Archive", "ArchiveError", "DocumentCorrupt", "DocumentMissing",
           "archive_from_settings", "sniff_content_type"]


def archive_from_settings(settings: Settings) -> Archive:
    """The archive the settings describe; the S3 backend needs at least `s3_bucket`."""
    if settings.archive_backend == "s3":
        return _s3_archive(settings)
    from archive.local import LocalArchive

    return LocalArchive(settings.archive_dir or settings.data_dir / "archive")


def _s3_archive(settings: Settings) -> Archive:
    import boto3
    from botocore.config import Config

    from archive.s3 import S3Archive

    if not settings.s3_bucket:
        raise ArchiveError("archive_backend is s3 but WAYBILL_S3_BUCKET is not set")
    secret = settings.s3_secret_access_key
    client = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        # S3-compatible stores (MinIO, Ceph...) rarely serve virtual-host bucket names.
        config=Config(s3={"addressing_style": "path"} if settings.s3_endpoint_url else {},
                      retries={"max_attempts": 3, "mode": "standard"}),
    )
    return S3Archive(client, settings.s3_bucket)
