"""The keys audit checkpoints are signed and verified with (issue 17 §3).

The configured `audit_checkpoint_key` (with its id), else one generated once into
DATA_DIR/audit_checkpoint_key under the id `data-dir`, as the survey secret is
(shared/survey_links.py): `make run` works without configuring one. Never logged or shown.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from config import Settings
from shared.owner_only import create_secret_file

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
        create_secret_file(path, secrets.token_urlsafe(32), "audit checkpoint key")
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise RuntimeError(f"{path} is empty: set WAYBILL_AUDIT_CHECKPOINT_KEY, or restore the "
                           "file (checkpoints signed with it cannot be verified without it)")
    return value.encode()
