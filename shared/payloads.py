"""How Waybill's Temporal payloads are written and read: JSON, decoded by pydantic.

The SDK's default converter resolves a dataclass's type hints again for every value it decodes
(237 µs per event input against pydantic's 13 µs, measured). Pydantic's converter keeps its
TypeAdapters per converter instance, and the worker makes a converter per serialization context
(each activation): so each workflow start built its input's schema again, a tenth of the
worker's CPU under load (py-spy). Here the adapters are shared by every instance.

A dataclass is written without the fields that hold their default (None, an empty list, ...):
they are most of a small payload's keys, and every one is history bytes on the server. Reading
fills them in again, as the default converter does for a missing field, so either converter
reads the other's JSON; every committed history replays with it (tests/workflows/test_replay.py).

What the client and worker send is then encrypted (shared/codec.py): `data_converter(codec)`.
`DATA_CONVERTER`, without a codec, is for measuring the JSON alone (api/edge/payload_limit.py).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)

# One adapter per type hint for the whole process (our payload types pass through the sandbox,
# shared/sandbox.py, so a hint is the same object in every workflow run).
_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(maxsize=1024)(
    TypeAdapter)


class _SharedAdaptersJson(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._type_adapter = _ADAPTERS

    def to_payload(self, value: Any) -> Payload | None:
        if not dataclasses.is_dataclass(value) or isinstance(value, type):
            return super().to_payload(value)
        # By the type's schema (no payload type subclasses another, so nothing is cut off);
        # fields typed Any or dict are written whole, as they are.
        data = _ADAPTERS(type(value)).dump_json(value, exclude_defaults=True)
        return Payload(metadata={"encoding": self.encoding.encode()}, data=data)


class WaybillPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        json = _SharedAdaptersJson()
        super().__init__(*(
            json if isinstance(c, JSONPlainPayloadConverter) else c
            for c in DefaultPayloadConverter.default_encoding_payload_converters))


DATA_CONVERTER = DataConverter(payload_converter_class=WaybillPayloadConverter)


def data_converter(codec: PayloadCodec | None) -> DataConverter:
    """Waybill's converter with `codec` over its payloads (shared/codec.py); its payload
    converter keeps the process-wide adapters, so encryption costs only the codec's time.

    With a codec, failures' messages and stack traces go into an encoded payload too: an
    activity's error may quote what it was sending (an address a mail server refused). Failures
    written in clear (older histories) are read as they are."""
    if codec is None:
        return dataclasses.replace(DATA_CONVERTER, payload_codec=None)
    return dataclasses.replace(
        DATA_CONVERTER, payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
