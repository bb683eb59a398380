"""Where a receiver may send: not to this host, nor to its link-local neighbours.

A receivers file names URLs the engine will POST alert data to, signed with our secret. A URL on
the loopback interface reaches services of the engine's own host that trust local callers, and
one on a link-local address reaches a cloud's instance metadata service (169.254.169.254) and its
credentials: both are refused unless the file says `allow_local_urls: true` (a demo or a test
whose duty officer listens on 127.0.0.1). Private networks (10/8, 192.168/16, ...) stay allowed:
an ops centre's receivers live on them.

Literal addresses are checked in every spelling a resolver accepts (`2130706433`, `0x7f.1`,
`[::ffff:127.0.0.1]`), and `localhost` names by name. A name that resolves to such an address
through DNS is not caught here (the file is checked when it is loaded, not at each delivery).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def local_destination(url: str) -> str | None:
    """Why `url` points at this host or a link-local address, or None when it does not."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return f"{host!r} is this host"
    address = _address(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return f"{address} is this host (loopback)"
    if address.is_link_local:
        return f"{address} is link-local (where cloud metadata services answer)"
    return None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the C resolver also takes 2130706433, 0x7f.1, 017700000001 as IPv4 addresses
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
