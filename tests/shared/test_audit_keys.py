"""Which keys sign and verify audit checkpoints (shared/audit_keys.py)."""

from __future__ import annotations

from pathlib import Path

from config import Settings
from shared.audit_keys import FILE_KEY_ID, KEY_FILE, signing_key, verifying_keys


def test_unset_a_key_is_generated_once_and_kept_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    key_id, key = signing_key(settings)
    assert key_id == FILE_KEY_ID and len(key) >= 32
    assert signing_key(Settings(data_dir=tmp_path)) == (key_id, key)  # a restart: same key
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0
    assert verifying_keys(settings) == {FILE_KEY_ID: key}


def test_a_configured_key_signs_and_retired_ones_still_verify(tmp_path: Path) -> None:
    old = signing_key(Settings(data_dir=tmp_path))[1]  # ran without a key first
    settings = Settings(data_dir=tmp_path, audit_checkpoint_key="new-key",
                        audit_checkpoint_key_id="k2",
                        audit_checkpoint_old_keys={"k1": "first-key"})
    assert signing_key(settings) == ("k2", b"new-key")
    assert verifying_keys(settings) == {"k2": b"new-key", "k1": b"first-key", FILE_KEY_ID: old}
    assert "new-key" not in repr(settings) and "first-key" not in repr(settings)
