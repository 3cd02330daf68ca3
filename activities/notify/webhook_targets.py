"""Where a webhook may be sent: the one rule checked when a subscription's URL is set (api/) and
again, after DNS resolution, right before each delivery (activities/notify/webhook_channel.py).

A URL that reaches the machine Waybill runs on, its private network or a cloud metadata service
(169.254.169.254) would let a subscriber make Waybill call inside (SSRF), so:

* `https` is required unless `webhooks_require_https` is off (the dev stack and tests use http);
* addresses are sorted into classes; `unspecified` (0.0.0.0, ::), `multicast`, `link_local`
  (which holds the metadata service) and `reserved` are always refused; `loopback` and `private`
  (RFC 1918, unique-local fd00::/8, shared 100.64/10, documentation ranges...) are refused unless
  `webhooks_allow_private_targets` is on, for receivers on the same premises;
* IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, 6to4, Teredo, NAT64
  64:ff9b::/96) are judged by that IPv4 address.

At creation only what needs no DNS is known: IP literals in any spelling the system resolver
accepts (127.1, 2130706433, 0x7f000001) and `localhost` names. A host name is checked at
delivery: every address it resolves to must pass, and the connection goes to the checked
address (so DNS rebinding between check and connect cannot switch it).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses to connect to, in the resolver's order; raises OSError.
Resolver = Callable[[str, int], list[str]]

ALWAYS_REFUSED = frozenset({"unspecified", "multicast", "link_local", "reserved"})
PRIVATE = frozenset({"loopback", "private"})
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCALHOST_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class TargetForbidden(ValueError):
    """The URL may not be a webhook target; `reason` is a fixed, machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TargetPolicy:
    require_https: bool = True
    allow_private: bool = False


def policy_of(settings: Settings) -> TargetPolicy:
    return TargetPolicy(require_https=settings.webhooks_require_https,
                        allow_private=settings.webhooks_allow_private_targets)


def address_class(ip: IPAddress) -> str | None:
    """The class of a non-public address (see the module doc), or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_class(embedded)
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if ip.is_link_local or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local):
        return "link_local"
    if ip.is_loopback:
        return "loopback"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private or not ip.is_global:
        return "private"
    return None


def check_address(ip: IPAddress, policy: TargetPolicy) -> None:
    """Raises TargetForbidden if `policy` refuses sending to `ip`."""
    kind = address_class(ip)
    if kind is None or (kind in PRIVATE and policy.allow_private):
        return
    raise TargetForbidden(f"{kind}_address", f"the target is a {kind.replace('_', '-')} "
                          "address, which may not receive webhooks")


def literal_address(host: str) -> IPAddress | None:
    """`host` as an IP address if it is one in any spelling the resolver accepts without DNS
    (127.1 and 2130706433 are 127.0.0.1 to it); None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return None
    return ipaddress.ip_address(infos[0][4][0]) if infos else None


def check_url(url: str, policy: TargetPolicy) -> None:
    """What can be checked without DNS: the scheme, an IP literal, a `localhost` name.

    Raises:
        TargetForbidden: reason `https_required`, `invalid_host` or `<class>_address`.
    """
    parts = urlsplit(url)
    if policy.require_https and parts.scheme != "https":
        raise TargetForbidden("https_required", "webhook URLs must use https")
    host = (parts.hostname or "").rstrip(".")
    if not host or "%" in host:  # an IPv6 zone ("fe80::1%eth0") names a local interface
        raise TargetForbidden("invalid_host", "the URL's host is not a valid target")
    ip = literal_address(host)
    if ip is not None:
        check_address(ip, policy)
    elif host in _LOCALHOST_NAMES or host.endswith(".localhost"):
        check_address(ipaddress.ip_address("127.0.0.1"), policy)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives `host` (blocking; call it off the event loop)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve_checked(host: str, port: int, policy: TargetPolicy,
                    resolver: Resolver = system_resolver) -> IPAddress:
    """The address to connect to for `host`: every address it resolves to must pass (a name
    with one private address among public ones is refused), then the first is used.

    Raises:
        TargetForbidden: an address is refused.
        OSError: the name does not resolve (a temporary failure, maybe).
    """
    ip = literal_address(host)
    addresses = [ip] if ip is not None else [ipaddress.ip_address(a.split("%")[0])
                                            for a in resolver(host, port)]
    if not addresses:
        raise OSError(f"no address for {host}")
    for address in addresses:
        check_address(address, policy)
    return addresses[0]
