"""Which carrier a name means: orders spell carriers as people do ("SF Express", "顺丰速运"),
Kuaidi100 by its company code (`shunfeng`). One rule for both directions: routing a push to
its orders, and naming the company when a tracking number is subscribed.

Framework-free: the feed parsers, the router and the subscription channel all read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The status words a feed gives a tracking scan (api/feeds/: Kuaidi100's states, AfterShip's
# tags), and the location a scan without one gets: the customer's tracking page says each in
# words (templates/tracking/messages: `scan_status.<word>`, `scan_location_unknown`).
SCAN_STATUSES = ("order_placed", "info_received", "picked_up", "in_transit", "transferred",
                 "arrived_destination_city", "customs", "customs_cleared", "out_for_delivery",
                 "available_for_pickup", "awaiting_pickup", "pending")
NO_LOCATION = "unknown"

# Kuaidi100 company codes of the carriers most Chinese shippers use, with the names orders
# give them (compared without case, spaces or dashes, so AfterShip's slugs `sf-express`,
# `china-ems`, `zto-express` match too). A deployment adds its own (settings.carrier_codes); a
# name not listed matches only itself.
KNOWN: dict[str, tuple[str, ...]] = {
    "shunfeng": ("SF Express", "SF", "顺丰", "顺丰速运", "顺丰快递"),
    "ems": ("EMS", "China EMS", "中国邮政EMS", "邮政EMS"),
    "youzhengguonei": ("China Post", "邮政快递包裹", "中国邮政"),
    "yuantong": ("YTO", "YTO Express", "圆通", "圆通速递"),
    "zhongtong": ("ZTO", "ZTO Express", "中通", "中通快递"),
    "shentong": ("STO", "STO Express", "申通", "申通快递"),
    "yunda": ("Yunda", "Yunda Express", "韵达", "韵达快递"),
    "jd": ("JD", "JD Logistics", "京东", "京东物流", "京东快递"),
    "debangwuliu": ("Deppon", "Deppon Express", "德邦", "德邦物流", "德邦快递"),
    "jtexpress": ("J&T", "J&T Express", "极兔", "极兔速递"),
    "huitongkuaidi": ("Best Express", "百世", "百世快递"),
}

_NOISE = re.compile(r"[\s_\-.]+")


def normalized(name: str) -> str:
    """A carrier name compared the forgiving way: case, spaces, dashes and dots ignored."""
    return _NOISE.sub("", name).casefold()


class Carriers:
    """The carrier table: built-in codes plus a deployment's own `extra` (name -> code)."""

    def __init__(self, extra: Mapping[str, str] | None = None) -> None:
        self._code: dict[str, str] = {}
        for code, names in KNOWN.items():
            for name in (code, *names):
                self._code[normalized(name)] = code
        for name, code in (extra or {}).items():
            self._code[normalized(name)] = normalized(code)
            self._code.setdefault(normalized(code), normalized(code))

    def code_of(self, name: str | None) -> str | None:
        """The Kuaidi100 company code `name` means, or None if the table does not know it."""
        return self._code.get(normalized(name)) if name else None

    def verdict(self, ours: str | None, theirs: str) -> str:
        """How an order's carrier (`ours`) compares with a push's (`theirs`): "same" (equal
        names or the same code), "other" (both known, different codes) or "unknown" (the
        table cannot tell: one of them is not in it, or the order names no carrier)."""
        if ours and normalized(ours) == normalized(theirs):
            return "same"
        mine, their_code = self.code_of(ours), self.code_of(theirs)
        if mine is None or their_code is None:
            return "unknown"
        return "same" if mine == their_code else "other"
