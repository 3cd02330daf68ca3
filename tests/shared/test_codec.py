"""The payload codec: what Temporal holds is ciphertext, every configured key reads, clear
payloads pass through (shared/codec.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.exceptions import ApplicationError

from config import Settings
from shared.codec import (
    ENCODING,
    KEY_FILE,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    Keyring,
    codec_for,
    keyring_for,
)
from shared.codec_dictionary import ZDICT_V1
from shared.payloads import data_converter


def key_line(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


K1, K2 = key_line("k1"), key_line("k2")
CUSTOMER = b'{"customer":{"name":"Zhang Wei","phone":"+86 138 0013 8000",' \
           b'"email":"zhang.wei@example.cn"},"destination":{"address":"88 Century Ave"}}'


def clear(data: bytes = CUSTOMER) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def test_a_sealed_payload_shows_nothing_and_opens_to_the_same_payload() -> None:
    codec = EncryptionCodec(Keyring.parse(K1))
    sealed = codec.seal(clear())
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k1"
    wire = sealed.SerializeToString()
    for secret in (b"Zhang", b"138", b"example.cn", b"Century", b"json/plain"):
        assert secret not in wire
    assert codec.open(sealed) == clear()


def test_each_seal_has_its_own_nonce() -> None:
    codec = EncryptionCodec(Keyring.parse(K1))
    first, second = codec.seal(clear()), codec.seal(clear())
    assert first.data[:12] != second.data[:12] and first.data != second.data


def test_payloads_are_compressed_only_when_that_is_smaller() -> None:
    codec = EncryptionCodec(Keyring.parse(K1))
    big = clear(b'{"scans":[' + b'{"location":"Hub","status":"departed"},' * 50 + b'{}]}')
    assert len(codec.seal(big).data) < len(big.data) / 3
    tiny = clear(b"1")
    assert codec.open(codec.seal(tiny)) == tiny


def test_a_clear_payload_passes_through() -> None:
    """What was written before encryption (tests/histories/) is read as it is."""
    codec = EncryptionCodec(Keyring.parse(K1))
    assert codec.open(clear()) == clear()


def test_an_altered_payload_is_refused() -> None:
    codec = EncryptionCodec(Keyring.parse(K1))
    sealed = codec.seal(clear())
    altered = Payload(metadata=dict(sealed.metadata),
                      data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(CodecError, match="does not open"):
        codec.open(altered)


def test_rotation_adds_a_key_then_switches_the_active_id() -> None:
    old = EncryptionCodec(Keyring.parse(K1))
    sealed_before = old.seal(clear())
    # Step 1: the new key is listed everywhere, the old one still encrypts.
    added = EncryptionCodec(Keyring.parse(f"{K1},{K2}"))
    assert added.seal(clear()).metadata[KEY_ID] == b"k1"
    # Step 2: the new key encrypts; what the old one sealed still opens.
    switched = EncryptionCodec(Keyring.parse(f"{K1},{K2}", active="k2"))
    sealed_after = switched.seal(clear())
    assert sealed_after.metadata[KEY_ID] == b"k2"
    assert switched.open(sealed_before) == clear() == switched.open(sealed_after)
    # A reader without the new key says which key it lacks.
    with pytest.raises(CodecError, match="'k2'"):
        old.open(sealed_after)


@pytest.mark.parametrize(("text", "active", "message"), [
    pytest.param("", None, "no key", id="empty"),
    pytest.param("k1", None, "id:base64-key", id="no-key"),
    pytest.param("k1:not base64!", None, "not valid base64", id="not-base64"),
    pytest.param(f"k1:{base64.b64encode(b'short').decode()}", None, "AES-256 needs 32",
                 id="short"),
    # ids, not the values: a random key in a test id differs between xdist workers
    pytest.param(f"{K1},{K1}", None, "listed twice", id="twice"),
    pytest.param(K1, "k9", "not among the keys", id="unknown-active"),
])
def test_bad_key_settings_are_refused_without_showing_a_key(
        text: str, active: str | None, message: str) -> None:
    with pytest.raises(CodecError, match=message) as refused:
        Keyring.parse(text, active)
    assert K1.split(":")[1] not in str(refused.value)


def test_the_configured_keys_are_used(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, temporal_codec_keys=SecretStr(f"{K1},{K2}"),
                        temporal_codec_key_id="k2")
    assert keyring_for(settings).active == "k2"
    assert not (tmp_path / KEY_FILE).exists()


def test_without_keys_a_development_key_is_made_once_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sealed = codec_for(settings).seal(clear())
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The next process (the worker beside the API, a restart) reads with the same key.
    assert codec_for(settings).open(sealed) == clear()
    assert keyring_for(settings).active.startswith("dev-")


def test_open_all_opens_every_payload_in_a_history_event() -> None:
    codec = EncryptionCodec(Keyring.parse(K1))
    event = HistoryEvent()
    started = event.workflow_execution_started_event_attributes
    started.input.payloads.append(codec.seal(clear()))
    started.memo.fields["note"].CopyFrom(codec.seal(clear(b'"memo"')))
    started.search_attributes.indexed_fields["WaybillStage"].CopyFrom(clear(b'"received"'))
    update = HistoryEvent()
    update.workflow_execution_update_accepted_event_attributes.accepted_request.input \
        .args.payloads.append(codec.seal(clear(b'"arg"')))
    assert codec.open_all(event) == 0 and codec.open_all(update) == 0
    assert started.input.payloads[0] == clear()
    assert started.memo.fields["note"] == clear(b'"memo"')
    assert started.search_attributes.indexed_fields["WaybillStage"] == clear(b'"received"')
    assert update.workflow_execution_update_accepted_event_attributes.accepted_request.input \
        .args.payloads[0] == clear(b'"arg"')


def test_open_all_leaves_a_payload_of_a_retired_key_sealed() -> None:
    sealed = EncryptionCodec(Keyring.parse(K2)).seal(clear())
    event = HistoryEvent()
    event.workflow_execution_started_event_attributes.input.payloads.append(sealed)
    assert EncryptionCodec(Keyring.parse(K1)).open_all(event) == 1
    assert event.workflow_execution_started_event_attributes.input.payloads[0] == sealed


@dataclass
class Shipment:
    order_id: str
    contact: str
    note: str | None = None


async def test_the_converter_encrypts_what_it_writes_and_reads_it_back() -> None:
    converter = data_converter(EncryptionCodec(Keyring.parse(K1)))
    value = Shipment(order_id="SO-1", contact="Li Lei")
    [payload] = await converter.encode([value])
    assert payload.metadata["encoding"] == ENCODING and b"Li Lei" not in payload.data
    assert await converter.decode([payload], [Shipment]) == [value]
    # Lean JSON is kept under the seal: the field at its default is still left out.
    [opened] = await converter.payload_codec.decode([payload])  # type: ignore[union-attr]
    assert b"note" not in opened.data


def test_the_compression_dictionary_is_frozen() -> None:
    """Payloads compressed with it open only with these very bytes: a better dictionary is a
    new one with a new format byte (shared/codec_dictionary.py)."""
    assert hashlib.sha256(ZDICT_V1).hexdigest() == \
        "289d67eedadac5d4c4db6721646cc2259b9df99e8710d28285c6158022d2e8e4"


def test_a_payload_of_an_unknown_format_is_refused() -> None:
    keyring = Keyring.parse(K1)
    nonce = os.urandom(12)
    body = AESGCM(keyring.keys["k1"]).encrypt(nonce, b"\x07" + clear().SerializeToString(), b"k1")
    forged = Payload(metadata={"encoding": ENCODING, KEY_ID: b"k1"}, data=nonce + body)
    with pytest.raises(CodecError, match="unknown format"):
        EncryptionCodec(keyring).open(forged)


async def test_failure_messages_are_sealed_too() -> None:
    """An activity's error may quote what it sent: its message travels encrypted."""
    converter = data_converter(EncryptionCodec(Keyring.parse(K1)))
    failure = Failure()
    await converter.encode_failure(ApplicationError("550 no such user zhang.wei@example.cn"),
                                   failure)
    assert b"zhang.wei" not in failure.SerializeToString()
    back = await converter.decode_failure(failure)
    assert "zhang.wei@example.cn" in str(back)
