"""Failed authentications: a token bucket per client address, and keys refused recently.

A wrong key costs the gateway a pooled connection and a query; 32 clients guessing keys took a
real request from 6 ms to nearly a second. Each client address may fail `per_minute` times in a
burst and then once every 60/`per_minute` seconds; past that it is answered 429 before any
lookup. Only failures spend tokens, so a busy client with a good key is never slowed. Requests
already in flight when the bucket empties still fail and drive it below zero (down to one
minute's worth), which is what keeps a concurrent burst waiting longer than a single guesser.

Keys refused recently (unknown, wrong secret, revoked) are answered from memory for a while: a
fleet of devices retrying a revoked key costs nothing, whichever addresses they come from. The
cache is keyed by a hash of the whole key, so it never refuses a good key that shares an id.

Both live in memory, one per gateway process, and are bounded in size. They are a few lines of
dictionary work on the failure path; a rate-limit library would bring storage back-ends and
decorators this needs none of.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable

MAX_CLIENTS = 16_384  # buckets kept (~3 MB); the client that failed longest ago goes first
REFUSED_FOR_S = 60.0  # how long a refused key is answered from memory
MAX_REFUSED = 16_384  # refused keys remembered
Clock = Callable[[], float]  # seconds, monotonic


def client_key(host: str | None) -> str:
    """The bucket of a client address: IPv6 clients by their /64 (one subscriber's network:
    an address per guess would be free to them), IPv4 by the address."""
    if host is None:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class FailureBuckets:
    """Failed authentications per client (`client_key`), as buckets of `per_minute` tokens."""

    def __init__(
        self, per_minute: int, *, clock: Clock = time.monotonic, max_clients: int = MAX_CLIENTS
    ) -> None:
        self.capacity = float(per_minute)
        self._rate = per_minute / 60.0  # tokens a second
        self._clock = clock
        self._max = max_clients
        # client -> (tokens, when counted); an absent client has a full bucket
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, host: str | None) -> float:
        """Seconds until the client at `host` may try a key again; 0: now."""
        if not self._buckets:  # the common case, asked on every request: nobody failed lately
            return 0.0
        entry = self._buckets.get(client_key(host))
        if entry is None:
            return 0.0
        tokens = self._level(entry, self._clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate

    def failed(self, host: str | None) -> bool:
        """Count a failure of the client at `host`; True when this one emptied its bucket."""
        now, client = self._clock(), client_key(host)
        entry = self._buckets.pop(client, None)
        before = self.capacity if entry is None else self._level(entry, now)
        after = max(before - 1.0, -self.capacity)
        self._buckets[client] = (after, now)  # at the end: the most recent failure
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return before >= 1.0 > after

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, entry: tuple[float, float], now: float) -> float:
        tokens, then = entry
        return min(self.capacity, tokens + max(0.0, now - then) * self._rate)


class RefusedKeys:
    """Keys (by hash) refused recently, with the reason given, for `ttl_s` seconds."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        ttl_s: float = REFUSED_FOR_S,
        size: int = MAX_REFUSED,
    ) -> None:
        self._clock = clock
        self._ttl = ttl_s
        self._size = size
        self._refused: OrderedDict[str, tuple[float, str]] = OrderedDict()  # hash -> (until, why)

    def reason(self, key_hash: str) -> str | None:
        """Why the key was refused, if it was within `ttl_s`; None otherwise."""
        entry = self._refused.get(key_hash)
        if entry is None:
            return None
        until, why = entry
        if self._clock() >= until:
            del self._refused[key_hash]
            return None
        return why

    def refuse(self, key_hash: str, why: str) -> None:
        self._refused.pop(key_hash, None)
        self._refused[key_hash] = (self._clock() + self._ttl, why)
        while len(self._refused) > self._size:
            self._refused.popitem(last=False)  # the oldest refusal: it expires first anyway

    def __len__(self) -> int:
        return len(self._refused)
