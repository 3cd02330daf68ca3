"""The document archive: content-addressed, write-once, verified on every read."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import (
    ALLOWED_TYPES,
    ArchiveError,
    DocumentCorrupt,
    DocumentMissing,
    archive_from_settings,
    sniff_content_type,
)
from archive.local import LocalArchive
from archive.s3 import S3Archive
from config import Settings
from tests.support.moto_s3 import SECRET, moto_server, new_bucket, raw_client
from tests.support.moto_s3 import s3_settings as s3_fields

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nminimal\n%%EOF\n"


def test_sniffs_by_magic_bytes_only() -> None:
    assert sniff_content_type(PDF) == "application/pdf"
    assert sniff_content_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff_content_type(b"\x89PNG\r\n\x1a\n\x00\x00") == "image/png"
    assert sniff_content_type(b"just text, named receipt.pdf") is None
    assert sniff_content_type(b"") is None
    assert sniff_content_type(b"GIF89a") is None
    assert {"application/pdf", "image/jpeg", "image/png"} == ALLOWED_TYPES


def test_local_put_get_is_content_addressed(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path / "archive")
    sha = archive.put(PDF)
    assert sha == hashlib.sha256(PDF).hexdigest()
    path = tmp_path / "archive" / "sha256" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == PDF
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert archive.get(sha) == PDF
    assert archive.exists(sha)
    # No temp files are left beside the blob.
    assert [p.name for p in path.parent.iterdir()] == [sha]


def test_local_put_is_idempotent_and_never_overwrites(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path)
    sha = archive.put(PDF)
    path = archive.path_of(sha)
    before = os.stat(path)
    assert archive.put(PDF) == sha
    after = os.stat(path)
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)

    # Even a blob damaged on disk is not silently replaced by a later put: it stays evidence.
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-tampered")
    assert archive.put(PDF) == sha
    assert path.read_bytes() == b"%PDF-tampered"


def test_local_missing_and_malformed_names(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path)
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not archive.exists(absent)
    with pytest.raises(DocumentMissing):
        archive.get(absent)
    for bad in ("../../etc/passwd", absent.upper(), absent[:-1], ""):
        assert not archive.exists(bad)
        with pytest.raises(DocumentMissing):
            archive.get(bad)


def test_archive_integrity_a_changed_blob_is_never_returned(tmp_path: Path) -> None:
    archive = LocalArchive(tmp_path)
    sha = archive.put(PDF)
    path = archive.path_of(sha)
    os.chmod(path, 0o644)
    path.write_bytes(PDF.replace(b"minimal", b"altered"))
    with pytest.raises(DocumentCorrupt) as err:
        archive.get(sha)
    assert sha in str(err.value)


def test_settings_choose_the_local_directory(tmp_path: Path) -> None:
    default = archive_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(default, LocalArchive) and default.root == tmp_path / "archive"
    chosen = archive_from_settings(Settings(data_dir=tmp_path, archive_dir=tmp_path / "x"))
    assert isinstance(chosen, LocalArchive) and chosen.root == tmp_path / "x"
    with pytest.raises(ArchiveError, match="S3_BUCKET"):
        archive_from_settings(Settings(data_dir=tmp_path, archive_backend="s3"))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_settings(s3_endpoint: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, **s3_fields(s3_endpoint, new_bucket(s3_endpoint)))


def _raw_client(settings: Settings):  # type: ignore[no-untyped-def]
    assert settings.s3_endpoint_url is not None
    return raw_client(settings.s3_endpoint_url)


def test_s3_put_get_idempotent_never_overwrites(s3_settings: Settings) -> None:
    archive = archive_from_settings(s3_settings)
    assert isinstance(archive, S3Archive)
    sha = archive.put(PDF)
    assert sha == hashlib.sha256(PDF).hexdigest()
    raw = _raw_client(s3_settings)
    obj = raw.get_object(Bucket=s3_settings.s3_bucket, Key=f"sha256/{sha}")
    assert obj["Body"].read() == PDF
    assert archive.get(sha) == PDF and archive.exists(sha)

    # Someone with bucket access changes the object: a later put must not "repair" it
    # silently, and a read must refuse the changed bytes.
    raw.put_object(Bucket=s3_settings.s3_bucket, Key=f"sha256/{sha}", Body=b"%PDF-forged")
    assert archive.put(PDF) == sha
    assert raw.get_object(Bucket=s3_settings.s3_bucket,
                          Key=f"sha256/{sha}")["Body"].read() == b"%PDF-forged"
    with pytest.raises(DocumentCorrupt):
        archive.get(sha)


def test_s3_missing_document(s3_settings: Settings) -> None:
    archive = archive_from_settings(s3_settings)
    absent = hashlib.sha256(b"absent").hexdigest()
    assert not archive.exists(absent)
    with pytest.raises(DocumentMissing):
        archive.get(absent)


def test_s3_errors_and_logs_never_show_the_secret(
        s3_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    broken = s3_settings.model_copy(update={"s3_bucket": "no-such-bucket"})
    archive = archive_from_settings(broken)
    with pytest.raises(ArchiveError) as err:
        archive.put(PDF)
    assert isinstance(err.value, ArchiveError) and not isinstance(err.value, DocumentMissing)
    shown = " ".join([str(err.value), repr(archive), repr(s3_settings), str(s3_settings),
                      caplog.text])
    assert SECRET not in shown
