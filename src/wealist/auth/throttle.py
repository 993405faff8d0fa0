"""Password-login throttling (ASVS V2.2.1): a budget per client IP and a soft per-account
delay.

An account absorbs ``free_failures`` wrong passwords; each further failure doubles a
delay (1 s, 2 s, 4 s, ... capped at ``max_delay_s``) during which attempts on it are
refused before the password is even checked. The owner is never locked out for longer
than the cap. Unknown emails are throttled exactly like real ones, so the throttle says
nothing about which accounts exist. Every Redis failure refuses the attempt (fail closed).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from redis.asyncio import Redis

from wealist.core.ratelimit import FixedWindow

__all__ = ("LoginThrottle",)

_FAIL = """
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local free = tonumber(ARGV[2])
local until_ms = 0
if n > free then
  local delay = math.min(2 ^ (n - free - 1), tonumber(ARGV[3])) * 1000
  until_ms = tonumber(ARGV[1]) + delay
  redis.call('HSET', KEYS[1], 'until', until_ms)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return until_ms
"""


def _account_key(email: str) -> str:
    # Hashed: Redis key names show up in monitoring; emails should not.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"auth:login:account:{digest}"


class LoginThrottle:
    def __init__(
        self,
        redis: Redis,
        *,
        ip_limit_per_min: int,
        signup_limit_per_min: int,
        free_failures: int,
        max_delay_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._clock = clock  # wall-clock seconds: the delay's deadline is stored in Redis
        self._login_ip = FixedWindow(redis, "auth:login:ip:", ip_limit_per_min, 60)
        self._signup_ip = FixedWindow(redis, "auth:signup:ip:", signup_limit_per_min, 60)
        self._fail = redis.register_script(_FAIL)
        self._free = free_failures
        self._max_delay = max_delay_s

    async def login_ip(self, ip: str) -> int:
        """Count a login attempt from ``ip``; seconds to wait when over budget, else 0."""
        return await self._login_ip.hit(ip)

    async def signup_ip(self, ip: str) -> int:
        return await self._signup_ip.hit(ip)

    async def account_wait(self, email: str) -> int:
        """Seconds before ``email`` may be tried again (0: now)."""
        until = await self._redis.hget(_account_key(email), "until")
        if until is None:
            return 0
        remaining_ms = int(until) - int(self._clock() * 1000)
        return 0 if remaining_ms <= 0 else -(-remaining_ms // 1000)

    async def failed(self, email: str) -> None:
        now_ms = int(self._clock() * 1000)
        # The counter outlives the longest delay, so a slow attack still climbs the ladder.
        keep_s = max(3600, 2 * self._max_delay)
        await self._fail(
            keys=[_account_key(email)], args=[now_ms, self._free, self._max_delay, keep_s]
        )

    async def succeeded(self, email: str) -> None:
        await self._redis.delete(_account_key(email))
