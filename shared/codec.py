"""Temporal payloads encrypted: what the Temporal server, its UI and its CLI hold is ciphertext.

Every payload the client and the worker write (workflow and activity inputs and results, update
arguments and results, query answers, memos, failures' messages: shared/payloads.py) is sealed
whole, its metadata too (so neither the data nor its encoding or type name shows), with
AES-256-GCM under the active key and a fresh random 96-bit nonce each time. The key id travels
in the clear metadata (`encryption-key-id`), so a reader picks the right key: reading accepts
every configured key,
and a rotation adds the new key, switches the active id, and keeps the old key for as long as
histories written with it are read (the namespace's retention, and replays).

A payload this codec did not write (every history committed in tests/histories/, anything
written before encryption was on) has another encoding and passes through as it is.

Keys come from settings (`temporal_codec_keys`, `temporal_codec_key_id`); unset, `make run`
still encrypts: a development key is made once in DATA_DIR/temporal_codec_key, owner-only, the
way the survey link secret is (shared/survey_links.py).

Sealed bytes: nonce (12) || AES-GCM(format byte || body) with the key id as associated data.
The format byte says whether the body is the serialized payload as it is (0) or compressed by
zlib primed with shared/codec_dictionary.py (1): a payload is compressed only when that makes
it smaller. Sealing alone adds about 90 bytes a payload (nonce, tag, the metadata outside and
in); compressing takes off more than that, so a history is smaller than it was in clear
(issue 16 counts its bytes: the figures are in shared/codec_dictionary.py and the README).

Compression before encryption makes a payload's length depend on its content (CRIME, BREACH).
That leaks something only where someone who sees lengths can put chosen text into the same
payload as a secret, again and again. Not here: an order's personal data is in its start input,
written once from what its creator sent (who knows it already); a later event's payloads carry
what that event's sender sent (a delivery's signer, a note), not the customer's data beside it
(checked on a happy path: only the start event holds it). A continue-as-new input holds both,
but once per megabyte of history, no oracle to probe; and whoever may send an order's events
may read the order through the API anyway. Lengths in a history show payload sizes, as
they would in clear, give or take the compression ratio.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError, Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import PayloadCodec

from config import Settings
from shared.codec_dictionary import ZDICT_V1
from shared.owner_only import create_secret_file

log = logging.getLogger("waybill.codec")

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's 96-bit nonce: random per payload (2^32 payloads per key stay safe)
KEY_FILE = "temporal_codec_key"
_AS_IS, _ZLIB_V1 = b"\x00", b"\x01"
# Below this a payload is not worth trying to compress (zlib's header and checksum cost 6).
_COMPRESS_FROM = 32
# What a payload may open to: Temporal refuses blobs over 2 MiB; the margin is for metadata.
_MAX_OPENED = 4 * 1024 * 1024
_PAYLOAD = Payload.DESCRIPTOR.full_name


class CodecError(ValueError):
    """A payload or a key that cannot be read (the message never holds key material)."""


@dataclass(frozen=True)
class Keyring:
    """The keys a codec reads with, by id, and the id of the one it writes with."""

    keys: Mapping[str, bytes]
    active: str

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise CodecError(f"the active key id {self.active!r} is not among the keys "
                             f"({', '.join(sorted(self.keys))})")
        for key_id, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise CodecError(f"key {key_id!r} is {len(key)} bytes; AES-256 needs "
                                 f"{KEY_BYTES}")

    @classmethod
    def parse(cls, text: str, active: str | None = None) -> Keyring:
        """Read `id:base64-key[,id:base64-key...]`; `active` unset = the first listed key."""
        keys: dict[str, bytes] = {}
        for item in (part.strip() for part in text.replace("\n", ",").split(",")):
            if not item:
                continue
            key_id, sep, encoded = item.partition(":")
            key_id = key_id.strip()
            if not sep or not key_id:
                raise CodecError("each key is `id:base64-key` (comma-separated)")
            if key_id in keys:
                raise CodecError(f"key id {key_id!r} is listed twice")
            try:
                keys[key_id] = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise CodecError(f"key {key_id!r} is not valid base64") from None
        if not keys:
            raise CodecError("no key given")
        return cls(keys=keys, active=active or next(iter(keys)))

    def line(self) -> str:
        """The keyring as `parse` reads it (for the development key file)."""
        return ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in self.keys.items())


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over whole payloads; see the module docstring for the format."""

    def __init__(self, keyring: Keyring) -> None:
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}
        self.active = keyring.active
        self._active_id = keyring.active.encode()
        self._active_cipher = self._ciphers[keyring.active]

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == ENCODING:
            return payload  # already sealed (the codec endpoint may be handed one)
        plain = payload.SerializeToString()
        body = _AS_IS + plain
        if len(plain) >= _COMPRESS_FROM:
            packer = zlib.compressobj(6, zdict=ZDICT_V1)
            packed = packer.compress(plain) + packer.flush()
            if len(packed) < len(plain):
                body = _ZLIB_V1 + packed
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._active_cipher.encrypt(nonce, body, self._active_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._active_id},
                       data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written in clear (before encryption, or a committed history)
        key_id = payload.metadata.get(KEY_ID, b"")
        cipher = self._ciphers.get(key_id.decode("utf-8", "replace"))
        if cipher is None:
            raise CodecError(f"payload sealed with key {key_id.decode('utf-8', 'replace')!r}, "
                             "which is not configured (WAYBILL_TEMPORAL_CODEC_KEYS)")
        data = payload.data
        if len(data) < NONCE_BYTES + 1:
            raise CodecError("sealed payload too short")
        try:
            body = cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id)
        except InvalidTag:
            raise CodecError("sealed payload does not open with its key (altered, or the "
                             "key is not the one it was sealed with)") from None
        try:
            return Payload.FromString(_unpacked(body))
        except (zlib.error, DecodeError):
            raise CodecError("sealed payload opens to no payload") from None

    def open_all(self, message: Message) -> int:
        """Open, in place, every sealed payload anywhere inside `message` (a history event:
        inputs, results, update arguments, memos, failures' details), at any depth. A payload
        that does not open (its key was retired) is left sealed; returns how many were."""
        left = 0
        for field, value in message.ListFields():
            kind = field.message_type
            if kind is None:
                continue
            if kind.GetOptions().map_entry:
                kind = kind.fields_by_name["value"].message_type
                if kind is None:
                    continue
                items = list(value.values())
            elif field.is_repeated:
                items = list(value)
            else:
                items = [value]
            for item in items:
                if kind.full_name != _PAYLOAD:
                    left += self.open_all(item)
                    continue
                try:
                    item.CopyFrom(self.open(item))
                except CodecError:
                    left += 1
        return left


def _unpacked(body: bytes) -> bytes:
    kind, rest = body[:1], body[1:]
    if kind == _AS_IS:
        return rest
    if kind != _ZLIB_V1:
        raise CodecError(f"sealed payload of unknown format {kind!r}")
    unpacker = zlib.decompressobj(zdict=ZDICT_V1)
    plain = unpacker.decompress(rest, _MAX_OPENED)
    if unpacker.unconsumed_tail:
        raise CodecError(f"sealed payload opens to over {_MAX_OPENED} bytes")
    return plain + unpacker.flush()


def keyring_for(settings: Settings) -> Keyring:
    """The configured keys, else the development key kept in DATA_DIR/temporal_codec_key."""
    configured = settings.temporal_codec_keys
    if configured is not None and configured.get_secret_value().strip():
        return Keyring.parse(configured.get_secret_value(), settings.temporal_codec_key_id)
    stored = stored_keyring(settings.data_dir)
    if settings.temporal_codec_key_id not in (None, stored.active):
        raise CodecError(f"WAYBILL_TEMPORAL_CODEC_KEY_ID={settings.temporal_codec_key_id!r} "
                         "names no key: set WAYBILL_TEMPORAL_CODEC_KEYS too")
    return stored


def codec_for(settings: Settings) -> EncryptionCodec:
    return EncryptionCodec(keyring_for(settings))


def stored_keyring(data_dir: Path) -> Keyring:
    """The development key kept in `data_dir` (made on first use): what `make run`, the dev
    stack and the bench stacks encrypt with when no keys are configured."""
    return Keyring.parse(_stored_key(data_dir / KEY_FILE))


def new_key_line(key_id: str) -> str:
    """A fresh `id:base64-key`, as WAYBILL_TEMPORAL_CODEC_KEYS lists them."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def _stored_key(path: Path) -> str:
    if not path.exists():
        create_secret_file(path, new_key_line(f"dev-{secrets.token_hex(2)}"),
                           "temporal payload key")
    value = path.read_text(encoding="ascii").strip()
    if not value:
        raise CodecError(f"{path} is empty: set WAYBILL_TEMPORAL_CODEC_KEYS, or delete the "
                         "file to make a new development key (histories sealed with the old "
                         "one can then no longer be read)")
    return value


def payload_codec(client: Client) -> EncryptionCodec | None:
    """The codec `client` writes with (shared/temporal.connect gives every client one)."""
    codec = client.data_converter.payload_codec
    return codec if isinstance(codec, EncryptionCodec) else None


def opened(client: Client, history: WorkflowHistory) -> WorkflowHistory:
    """`history` (as fetched: sealed) with every payload `client`'s codec opens opened, in
    place: the auditors' views of raw history (API and console) show what was sent."""
    codec = payload_codec(client)
    if codec is not None:
        left = sum(codec.open_all(event) for event in history.events)
        if left:
            log.warning("history payloads left sealed: their key is not configured",
                        extra={"workflow_id": history.workflow_id, "payloads": left})
    return history
