"""Kuaidi100's subscription push (快递100 订阅推送), read and answered as its documentation says.

The push is a form POST to the `callbackurl` given at subscription, with `param` (JSON:
`status`, `message`, `lastResult{state, ischeck, com, nu, data[{context, time, ftime,
areaName, status, statusCode}]}`) and `sign` = upper(MD5(param + salt)), the salt being the one
we sent with the subscription (settings.kuaidi100_salt). Kuaidi100 reads the answer's JSON:
`{"result": true, "returnCode": "200", "message": "成功"}` takes the push; `result: false`
makes it push again later.

States (`state`, and each scan's `statusCode` when the subscription asked for resultv2=4, or
its `status` word): 0 在途, 1 揽收, 2 疑难, 3 签收, 4 退签, 5 派件, 6 退回, 7 转投, 8 清关
(10 待清关, 11 清关中, 12 已清关, 13 清关异常), 14 拒签, and the high-precision sub-states:
a three-digit code belongs to the state of its first digit (101 已下单 ... 301 本人签收 ...
501 投柜或驿站), 1001-1003 (到达派件城市, 干线, 转递) to 0 在途. `classify` maps each to an
order event: moving states are scans, 3 is a delivery, the trouble states are delivery
exceptions with the reason they mean.

Pure: the router (api/feeds/router.py) checks the signature and posts what `scans` returns.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.feeds.events import LOCATION_MAX, TEXT_MAX, CarrierEvent, carrier_event_id, clean
from workflows.order.types import EventType

FEED = "kuaidi100"
# Kuaidi100 writes times as China's wall clock, without a zone.
CHINA = ZoneInfo("Asia/Shanghai")
# Bounds of what we read: a push carries the whole history of one parcel, newest first.
PARAM_MAX_CHARS = 512 * 1024
SCANS_MAX = 1000


def answer(ok: bool, code: str = "200", message: str = "成功") -> dict[str, Any]:
    """The answer Kuaidi100 reads: result, returnCode (a string) and message."""
    return {"result": ok, "returnCode": code, "message": message}


def signature(param: str, salt: str) -> str:
    """upper(MD5(param + salt)), as Kuaidi100 signs a push (and as our tests' pusher does)."""
    return hashlib.md5((param + salt).encode()).hexdigest().upper()  # noqa: S324 - its protocol


def signed(param: str, sign: str, salt: str) -> bool:
    return hmac.compare_digest(signature(param, salt), sign.strip().upper())


# -- the param's JSON -------------------------------------------------------------------------

class _Lenient(BaseModel):
    # Kuaidi100 adds fields over time (areaCode, areaCenter, location...): unknown ones are
    # ignored, never a refusal of the carrier's push.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class Scan(_Lenient):
    context: str = Field(default="", max_length=10_000)
    time: str | None = Field(default=None, max_length=40)
    ftime: str | None = Field(default=None, max_length=40)
    areaName: str | None = Field(default=None, max_length=LOCATION_MAX)  # noqa: N815
    status: str | None = Field(default=None, max_length=40)
    statusCode: str | None = Field(default=None, max_length=10)  # noqa: N815


class LastResult(_Lenient):
    state: str = Field(default="0", max_length=10)
    ischeck: str | None = Field(default=None, max_length=10)
    com: str = Field(min_length=1, max_length=120)
    nu: str = Field(min_length=1, max_length=120)
    data: list[Scan] = Field(default_factory=list, max_length=SCANS_MAX)


class Push(_Lenient):
    status: str | None = Field(default=None, max_length=40)  # polling, shutdown, abort...
    message: str | None = Field(default=None, max_length=2000)
    lastResult: LastResult  # noqa: N815


class BadPush(ValueError):
    """The param is not a push this module can read (not JSON, a missing field...)."""


def parse(param: str) -> Push:
    if len(param) > PARAM_MAX_CHARS:
        raise BadPush("param too long")
    try:
        return Push.model_validate(json.loads(param))
    except (ValueError, ValidationError) as exc:
        raise BadPush(type(exc).__name__) from None


# -- states -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Meaning:
    type: EventType
    status: str | None = None  # a scan's word
    reason: str | None = None  # an exception's reason
    signer: str | None = None  # how a delivery was signed for


_SCAN = EventType.TRACKING_SCAN
_EXC = EventType.DELIVERY_EXCEPTION
# The main states.
STATES: dict[str, Meaning] = {
    "0": Meaning(_SCAN, "in_transit"),
    "1": Meaning(_SCAN, "picked_up"),
    "2": Meaning(_EXC, reason="other"),  # 疑难: a problem the carrier has not named
    "3": Meaning(EventType.DELIVERED, signer="recipient"),
    "4": Meaning(_EXC, reason="refused"),  # 退签: refused and signed back by the sender
    "5": Meaning(_SCAN, "out_for_delivery"),
    "6": Meaning(_EXC, reason="other"),  # 退回: on its way back to the sender
    "7": Meaning(_SCAN, "transferred"),  # 转投: handed to another carrier or address
    "8": Meaning(_SCAN, "customs"),
    "10": Meaning(_SCAN, "customs"),  # 待清关
    "11": Meaning(_SCAN, "customs"),  # 清关中
    "12": Meaning(_SCAN, "customs_cleared"),
    "13": Meaning(_EXC, reason="other"),  # 清关异常
    "14": Meaning(_EXC, reason="refused"),  # 拒签
}
# High-precision sub-states that say more than their state.
SUB_STATES: dict[str, Meaning] = {
    "101": Meaning(_SCAN, "order_placed"),  # 已下单
    "102": Meaning(_SCAN, "awaiting_pickup"),  # 待揽收
    "103": Meaning(_SCAN, "picked_up"),  # 已揽收
    "1001": Meaning(_SCAN, "arrived_destination_city"),  # 到达派件城市
    "1002": Meaning(_SCAN, "in_transit"),  # 干线
    "1003": Meaning(_SCAN, "in_transit"),  # 转递
    "501": Meaning(_SCAN, "available_for_pickup"),  # 投柜或驿站
    "301": Meaning(EventType.DELIVERED, signer="recipient"),  # 本人签收
    "302": Meaning(EventType.DELIVERED, signer="recipient"),  # 派件异常后签收
    "303": Meaning(EventType.DELIVERED, signer="proxy"),  # 代签
    "304": Meaning(EventType.DELIVERED, signer="locker or station"),  # 投柜或站签收
    "201": Meaning(_EXC, reason="other"),  # 超时未签收
    "202": Meaning(_EXC, reason="other"),  # 超时未更新
    "203": Meaning(_EXC, reason="refused"),  # 拒收
    "204": Meaning(_EXC, reason="other"),  # 派件异常
    "205": Meaning(_EXC, reason="consignee_absent"),  # 柜或驿站超时未取
    "206": Meaning(_EXC, reason="consignee_absent"),  # 无法联系
    "207": Meaning(_EXC, reason="address_incorrect"),  # 超区
    "208": Meaning(_EXC, reason="other"),  # 滞留
    "209": Meaning(_EXC, reason="damaged_in_transit"),  # 破损
    "210": Meaning(_EXC, reason="other"),  # 销单
    "401": Meaning(_EXC, reason="other"),  # 已销单
}
# A scan's `status` word (without resultv2=4 scans carry only this).
WORDS: dict[str, str] = {
    "在途": "0", "揽收": "1", "疑难": "2", "签收": "3", "退签": "4", "派件": "5", "退回": "6",
    "转投": "7", "转单": "7", "清关": "8", "待清关": "10", "清关中": "11", "已清关": "12",
    "清关异常": "13", "拒签": "14",
}


def family(code: str) -> str | None:
    """The main state a code belongs to: itself, 10xx -> 0, a three-digit code -> its first
    digit; None if it is none of them."""
    if code in STATES:
        return code
    if len(code) == 4 and code.startswith("10"):
        return "0"
    if len(code) == 3 and code.isdigit() and code[0] in STATES:
        return code[0]
    return None


def classify(code: str) -> Meaning | None:
    """What a state or sub-state means for an order; None for a code we do not know."""
    if code in SUB_STATES:
        return SUB_STATES[code]
    main = family(code)
    return STATES[main] if main is not None else None


def _own_state(scan: Scan) -> str | None:
    """The state the scan itself carries: its code, else its word; None if neither is known."""
    for code in (scan.statusCode, WORDS.get((scan.status or "").strip())):
        if code and classify(code) is not None:
            return code
    return None


def _state_of(scan: Scan, newest: bool, last_state: str) -> str:
    """A scan's state: its own, else (the newest scan) the push's state; an older scan the
    carrier said nothing about was a step on the way."""
    own = _own_state(scan)
    if own is not None:
        return own
    if newest and classify(last_state) is not None:
        return last_state
    return "0"


def _when(scan: Scan) -> datetime | None:
    text = (scan.ftime or scan.time or "").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment


def _event_id(last: LastResult, scan: Scan, when: datetime) -> str:
    """Carrier, number, time and the scan's own state. A scan without one is named by its
    words instead: its state was borrowed from the push while it was the newest, and the same
    scan one push later (no longer the newest) must still be the same event."""
    own = _own_state(scan)
    tail = (own,) if own is not None else ("-", scan.context.strip())
    return carrier_event_id(FEED, last.com.strip().lower(), last.nu.strip(), when.isoformat(),
                            *tail)


def scans(push: Push) -> tuple[list[CarrierEvent], int]:
    """The push's scans as carrier events, oldest first (the order in which they happened,
    so a delivery comes after the scans before it), and how many were unreadable (no time)."""
    last = push.lastResult
    events: list[CarrierEvent] = []
    unreadable = 0
    for index, scan in enumerate(last.data):
        when = _when(scan)
        if when is None:
            unreadable += 1
            continue
        code = _state_of(scan, index == 0, last.state)
        meaning = classify(code)
        assert meaning is not None  # _state_of returns known codes only
        context = clean(scan.context, TEXT_MAX)
        events.append(CarrierEvent(
            feed=FEED, carrier=last.com, tracking_no=last.nu,
            event_id=_event_id(last, scan, when),
            carrier_status=code, type=meaning.type, occurred_at=when,
            location=clean(scan.areaName, LOCATION_MAX), status=meaning.status,
            reason=meaning.reason,
            text=context if meaning.type == EventType.DELIVERY_EXCEPTION else None,
            signer=meaning.signer))
    events.reverse()  # the push lists newest first; equal times keep the carrier's order
    events.sort(key=lambda e: e.occurred_at)
    return events, unreadable
