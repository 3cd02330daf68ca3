"""The tests' Temporal converter: Waybill's, encrypting, as `shared/temporal.connect` makes it.

Every test server (tests/conftest.py) and harness client encrypts with this fixed test key, so
the whole suite runs through the codec. The key protects nothing (test data only); it is fixed,
not random, so child processes a test starts (tests/support/notify_harness.py) read what the
test's client writes.
"""

from __future__ import annotations

from shared.codec import EncryptionCodec, Keyring
from shared.payloads import data_converter

TEST_KEYS = "test-1:" + "dGVzdC1vbmx5LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA="  # 32 bytes
TEST_CODEC = EncryptionCodec(Keyring.parse(TEST_KEYS))
TEST_CONVERTER = data_converter(TEST_CODEC)
