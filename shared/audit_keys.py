"""The keys audit checkpoints are signed and verified with (issue 17 §3).

The configured `audit_checkpoint_key` (with its id), else one generated once into
DATA_DIR/audit_checkpoint_key under the id `data-dir`, as the survey secret is
(shared/survey_links.py): `make run` works without configuring one. Never logged or shown.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from config import Settings
from shared.owner_only import make_dir

log = logging.getLogger("waybill.audit")

KEY_FILE = "audit_checkpoint_key"
FILE_KEY_ID = "data-dir"


def signing_key(settings: Settings) -> tuple[str, bytes]:
    """(key id, key) new checkpoints are signed with."""
    if settings.audit_checkpoint_key is not None and \
            settings.audit_checkpoint_key.get_secret_value():
        return settings.audit_checkpoint_key_id, \
            settings.audit_checkpoint_key.get_secret_value().encode()
    return FILE_KEY_ID, _stored_key(settings.data_dir / KEY_FILE, create=True)


def verifying_keys(settings: Settings) -> dict[str, bytes]:
    """Every key a stored checkpoint may name: the signing key, the retired ones, and the
    generated one if there is one (a deployment that set a key after running without)."""
    keys = {key_id: secret.get_secret_value().encode()
            for key_id, secret in settings.audit_checkpoint_old_keys.items()}
    path = settings.data_dir / KEY_FILE
    if path.exists():
        keys[FILE_KEY_ID] = _stored_key(path, create=False)
    key_id, key = signing_key(settings)
    keys[key_id] = key
    return keys


def _stored_key(path: Path, create: bool) -> bytes:
    if create and not path.exists():
        _create(path)
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise RuntimeError(f"{path} is empty: set WAYBILL_AUDIT_CHECKPOINT_KEY, or restore the "
                           "file (checkpoints signed with it cannot be verified without it)")
    return value.encode()


def _create(path: Path) -> None:
    """Write a new key whole to a private temporary file, then hard-link it into place: if the
    API and the worker start together, the first link wins and both read that key."""
    make_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(32) + "\n")
        try:
            os.link(tmp, path)
            log.info("audit checkpoint key created", extra={"path": str(path)})
        except FileExistsError:
            pass  # another process made it first: its key is the one kept
    finally:
        tmp.unlink(missing_ok=True)
