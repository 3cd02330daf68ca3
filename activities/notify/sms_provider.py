"""The SMS provider interface (issue 19 §3): what the SMS channel (sms_channel.py) asks of a
provider adapter (aliyun_sms.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    template_code: str
    params: dict[str, str]
    out_id: str  # the outbox row id: the same on every attempt


@dataclass(frozen=True)
class SmsSent:
    provider_id: str  # the provider's id of the accepted message (Aliyun BizId)
    http_status: int | None = None


class SmsNotSent(Exception):
    """The provider did not accept the message; `permanent` if trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False,
                 http_status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.http_status = http_status


class SmsProvider(Protocol):
    def send(self, message: SmsMessage) -> SmsSent: ...
