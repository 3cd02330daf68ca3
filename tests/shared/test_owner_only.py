"""Files at rest are owner-only (issue 14 §9): a data directory set up the way `make run`
(`waybill dev`) sets it up has directories 0700 and files 0600 (archived documents 0400), the
Temporal dev server's database included; files an older version left readable are fixed at
start."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import devstack
from archive import archive_from_settings
from config import Settings
from db.engine import make_engine, session_factory, transaction
from db.keys.queries import create_key
from db.migrate import upgrade
from shared import owner_only
from shared.survey_links import SECRET_FILE, links_for
from tests.support.pg import free_port

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def umask() -> Iterator[None]:
    """prepare() sets the process umask: put the test process's back afterwards."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


@pytest.mark.e2e  # starts the Temporal dev server the way `waybill dev` does
def test_a_fresh_data_dir_is_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    settings = Settings(data_dir=data, database_url=None, temporal_port=free_port(),
                        temporal_ui_port=free_port())
    # What `waybill dev` does, in its order: prepare, migrate, start Temporal (a child, with
    # the umask inherited), make the banner's key; then the API makes the survey secret and
    # an upload reaches the archive.
    owner_only.prepare(settings)
    upgrade(settings.db_url)
    temporal = devstack.start_temporal(settings)
    try:
        engine = make_engine(settings.db_url)
        with transaction(session_factory(engine)) as session:
            create_key(session, "dev-operator", "operator")
        engine.dispose()
        links_for(settings)
        archive_from_settings(settings).put(PDF)
    finally:
        devstack.stop([("temporal", temporal)])

    found = modes(data)
    for name in ("waybill.db", "temporal.db", SECRET_FILE):
        assert name in found, sorted(found)
    blobs = {p for p in found if p.startswith("archive/sha256/") and (data / p).is_file()}
    assert blobs, sorted(found)
    for name, mode in found.items():
        path = data / name
        if path.is_dir():
            assert mode == 0o700, (name, oct(mode))
        elif name in blobs:
            assert mode == 0o400, (name, oct(mode))
        else:
            assert mode == 0o600, (name, oct(mode))
    assert stat.S_IMODE((tmp_path / "nested").stat().st_mode) == 0o700


def test_files_left_readable_are_made_owner_only_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    blob_dir = data / "archive" / "sha256" / "ab" / "cd"
    blob_dir.mkdir(parents=True)
    for path, mode in ((data / "waybill.db", 0o644), (data / "waybill.db-wal", 0o664),
                       (data / "survey_secret", 0o644), (data / "temporal.db", 0o666),
                       (blob_dir / ("ab" * 32), 0o444)):
        path.write_bytes(b"x")
        path.chmod(mode)
    for directory in (data, *blob_dir.parents, blob_dir):
        if directory.is_relative_to(data):
            directory.chmod(0o755)

    owner_only.prepare(Settings(data_dir=data, database_url=None))

    found = modes(data)
    assert found["."] == found["archive"] == found["archive/sha256/ab/cd"] == 0o700
    assert {found[n] for n in ("waybill.db", "waybill.db-wal", "survey_secret",
                               "temporal.db")} == {0o600}
    assert found[f"archive/sha256/ab/cd/{'ab' * 32}"] == 0o400


def test_a_sqlite_database_outside_the_data_dir_is_fixed_too(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "app.db"
    db.parent.mkdir()
    db.write_bytes(b"x")
    db.chmod(0o644)
    owner_only.prepare(Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{db}"))
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
