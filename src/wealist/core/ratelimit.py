"""Request budgets kept in Redis, and the client address they are keyed by.

``FixedWindow`` counts hits per key in one Lua call (INCR, EXPIRE on the first hit, TTL),
so concurrent requests can never both take the last slot. Callers decide what a Redis
failure means: the login endpoints fail closed, ordinary routes may fail open.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from redis.asyncio import Redis

__all__ = ("FixedWindow", "client_ip")

_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""


class FixedWindow:
    """``limit`` hits per ``window_s`` seconds per key."""

    def __init__(self, redis: Redis, prefix: str, limit: int, window_s: int) -> None:
        self._script = redis.register_script(_HIT)
        self._prefix = prefix
        self.limit = limit
        self.window_s = window_s

    async def hit(self, key: str) -> int:
        """Count one hit; return 0 when it is within budget, else seconds until it resets."""
        count, ttl = await self._script(keys=[self._prefix + key], args=[self.window_s])
        return 0 if int(count) <= self.limit else max(1, int(ttl))


def is_trusted(peer: str, trusted: Sequence[str]) -> bool:
    """Whether ``peer`` is one of ``trusted``: addresses or networks (``10.0.0.0/8``, for
    gateway pods whose addresses change)."""
    if peer in trusted:
        return True
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """The client's address: the peer's, or, behind a trusted proxy, the one it reports.

    The gateway overwrites ``X-Forwarded-For`` with the address it saw, so only its last
    entry is believed, and only when the request came from the gateway itself; a client
    talking to the service directly cannot pick its own rate-limit key.
    """
    peer = peer or "unknown"
    if forwarded_for and is_trusted(peer, trusted):
        candidate = forwarded_for.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
    return peer
