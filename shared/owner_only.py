"""Waybill's files at rest are readable by the user that runs it and nobody else.

The data directory holds the application database (webhook secrets, customer names and
addresses), Temporal's database (every workflow's payloads, sealed: shared/codec.py), the
document archive and the secrets made on first use where none is configured (the survey link
secret, the Temporal payload key, the audit checkpoint key: `create_secret_file`):
directories are 0700 and files 0600 (archived documents 0400: write-once).
`prepare` runs before anything is created (the dev stack, `waybill migrate`, the other one-off
commands): it sets the process umask, which the children `waybill dev` starts inherit (the
Temporal dev server creates temporal.db), and takes group and other permissions off whatever an
older version left behind. The worker and the API only `restrict` (the umask): they start
often, and the archive may hold many files.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from config import Settings

log = logging.getLogger("waybill.files")

UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def make_dir(path: Path) -> Path:
    """`path` and any missing parents, each created 0700 whatever the umask."""
    missing = []
    for parent in (path, *path.parents):
        if parent.exists():
            break
        missing.append(parent)
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made by another process at the same moment
        os.chmod(directory, DIR_MODE)  # mkdir's mode is cut by the umask
    return path


def restrict(settings: Settings) -> list[Path]:
    """Every file this process and its children create from here on is owner-only, and the
    data directory (and a local archive kept elsewhere) exists; returns those roots.

    What the long-running worker and API do at start: walking an archive of many documents
    each time either starts would cost minutes; `prepare` (the dev stack, `waybill migrate`)
    fixes what is already there."""
    os.umask(UMASK)
    roots = [settings.data_dir]
    if settings.archive_backend == "local" and settings.archive_dir is not None:
        roots.append(settings.archive_dir)
    for root in roots:
        make_dir(root)
    return roots


def prepare(settings: Settings) -> None:
    """`restrict`, and take group and other permissions off what is already there (the data
    directory, a local archive, a SQLite database kept elsewhere)."""
    roots = restrict(settings)
    fixed = sum(tighten(root) for root in roots)
    fixed += sum(_tighten_one(path) for path in sqlite_files(settings.db_url))
    if fixed:
        log.warning("files left readable by others made owner-only",
                    extra={"files": fixed, "roots": [str(r) for r in roots]})


def sqlite_files(url: str) -> list[Path]:
    """The database file of a SQLite URL with its journal files; none for other databases.

    Read as SQLAlchemy reads it (`sqlite[+driver]:///relative` or `sqlite:////absolute`, query
    after `?`), without importing it: this module is framework-free."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite":
        return []
    database = rest.removeprefix("/").split("?", 1)[0]
    if not database or database == ":memory:":
        return []
    return [Path(database + suffix) for suffix in _SQLITE_SIDE_FILES]


def tighten(root: Path) -> int:
    """Take group and other permissions off `root` and everything under it (links are left
    alone: their targets are not ours to change); returns how many needed it."""
    fixed = _tighten_one(root)
    for directory, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            fixed += _tighten_one(Path(directory) / name)
    return fixed


def _tighten_one(path: Path) -> bool:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(mode) or not mode & _OTHERS:
        return False
    os.chmod(path, stat.S_IMODE(mode) & ~_OTHERS)
    return True


def create_secret_file(path: Path, line: str, what: str) -> None:
    """Write `line` (a new secret) to `path` unless it exists, so that processes starting
    together (the API and the worker) agree on one: written whole to a private temporary file,
    then hard-linked into place; the link fails if another process got there first, and then
    its secret is the one kept. `what` names it in the log line (never the secret)."""
    make_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(line + "\n")
        try:
            os.link(tmp, path)
            log.info("secret created", extra={"secret": what, "path": str(path)})
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
