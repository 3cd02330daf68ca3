"""The archive in a local directory: sha256/ab/cd/<hash>, each file written once, read-only."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from archive.base import DocumentMissing, check_name, digest, verified
from shared.owner_only import make_dir

# Owner-only (shared/owner_only.py): receipts and evidence carry customers' names and signatures.
_READ_ONLY = stat.S_IRUSR


class LocalArchive:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalArchive({str(self.root)!r})"

    def path_of(self, sha256: str) -> Path:
        name = check_name(sha256)
        return self.root / "sha256" / name[:2] / name[2:4] / name

    def put(self, data: bytes) -> str:
        name = digest(data)
        path = self.path_of(name)
        if path.exists():
            return name
        make_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, _READ_ONLY)
            _publish(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        _fsync_dir(path.parent)
        return name

    def get(self, sha256: str) -> bytes:
        try:
            data = self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise DocumentMissing(f"no blob {sha256}") from None
        return verified(sha256, data)

    def exists(self, sha256: str) -> bool:
        try:
            return self.path_of(sha256).is_file()
        except DocumentMissing:
            return False


def _publish(tmp: str, path: Path) -> None:
    """Give the finished temp file its final name, atomically and without replacing a blob.

    A hard link fails if the name exists, where a rename would silently overwrite; a concurrent
    put of the same bytes that wins the race leaves its (identical) blob in place.
    """
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:
        # Filesystems without hard links: rename is still atomic; check first to not overwrite.
        if not path.exists():
            os.rename(tmp, path)


def _fsync_dir(directory: Path) -> None:
    # The new directory entry must be durable too, or a crash could lose an acknowledged put.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
