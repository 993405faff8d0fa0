"""How many sockets one user holds, across instances: a lease per socket in a Redis zset.

A socket is counted when it opens (refused past ``most``), renewed while it lives, and
removed when it closes; a lease that runs out (its instance died without closing it)
stops counting, so a crash never locks a user out for longer than one lease.
"""

from __future__ import annotations

import time
from typing import Literal

from redis.asyncio import Redis

from wealist.core.realtime.batching import RedisBatch

__all__ = ("SocketLeases",)

Op = Literal["open", "renew", "close"]

# KEYS: the user's sockets (zset: connection -> lease end, ms). ARGV: op, connection,
# now ms, lease ms, most.
_COUNT = """
local now, lease = tonumber(ARGV[3]), tonumber(ARGV[4])
if ARGV[1] == 'open' then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[5]) then return 0 end
    redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
elseif ARGV[1] == 'renew' then
    if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
        redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
    end
else
    redis.call('ZREM', KEYS[1], ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], math.floor(lease * 2))
return 1
"""


class SocketLeases:
    """The sockets of each user under ``prefix`` (``<prefix>:<user>``), one lease each."""

    def __init__(
        self, redis: Redis, prefix: str, lease_s: float, batch: RedisBatch | None = None
    ) -> None:
        self._count = redis.register_script(_COUNT)
        self._prefix = prefix
        self._lease_ms = int(lease_s * 1000)
        self._batch = batch  # given: counts of concurrent sockets share round trips

    async def count(self, user: str, connection: str, op: Op, most: int = 0) -> bool:
        """Apply ``op`` to one socket of ``user``; False when opening it would exceed
        ``most``. Redis errors propagate: the caller decides to admit or refuse."""
        now = int(time.time() * 1000)
        args: list[str | int] = [op, connection, now, self._lease_ms, most]
        keys = [f"{self._prefix}:{user}"]
        if self._batch is not None:
            return bool(await self._batch.script(self._count, keys, args))
        return bool(await self._count(keys=keys, args=args))
