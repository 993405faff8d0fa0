"""Presence per (workspace, user), counted per connection, kept in Redis across instances.

Every chat or presence socket holds a lease per workspace it counts in, renewed by the
client's frames. A user is ONLINE while some lease is live and they were active within
``presence_away_s``, AWAY while leases live but they were idle, OFFLINE when the last
lease ends (socket closed, or it stopped answering: no frame for a lease). One Lua call
recomputes a user's status atomically and says whether it changed, so exactly one
instance announces each change (``USER_STATUS`` on the workspace's presence topic).
Expiries that no call would notice (a dead instance's leases, idleness) are picked up by
:func:`do_sweep`, which every instance runs; a due-set tells it whom to look at.

The number of sockets one user may hold is counted the same way (``chat:sockets:{user}``).

Every call goes through one :class:`~wealist.core.realtime.batching.RedisBatch` per
process: the touches, counts and reads of many sockets (and the status reads of many
sends) made at the same time travel in one pipeline, over at most
``presence_redis_connections`` connections; further calls wait their turn instead of
taking another connection (the pool's ``MaxConnectionsError`` under a thousand sockets).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, cast
from uuid import UUID

from redis.asyncio import Redis

from wealist.chat.actions.common import access_workspace, hub_of, settings_of
from wealist.chat.frames import status_frame
from wealist.chat.schemas import PresenceOut, Status
from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.errors import NotFound
from wealist.core.realtime.batching import RedisBatch
from wealist.core.realtime.leases import SocketLeases

__all__ = (
    "Op",
    "Presence",
    "do_sweep",
    "do_touch_all",
    "online_users",
    "presence_of",
    "status_of_user",
)

Op = Literal["open", "renew", "active", "close", "sweep"]

DUE_KEY = "chat:presence:due"

# KEYS: conns zset, status hash, last-activity key, due zset, workspaces-of-user set
# ARGV: op, conn id, now ms, lease ms, away ms, user id, due member, workspace id
_TOUCH = """
local op, conn = ARGV[1], ARGV[2]
local now, lease, away = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if op == 'open' or op == 'active' then
    redis.call('ZADD', KEYS[1], now + lease, conn)
    redis.call('SET', KEYS[3], now, 'PX', math.floor(away + lease))
    redis.call('SADD', KEYS[5], ARGV[8])
    redis.call('PEXPIRE', KEYS[5], math.floor(away + lease))
elseif op == 'renew' then
    if redis.call('ZSCORE', KEYS[1], conn) then
        redis.call('ZADD', KEYS[1], now + lease, conn)
    end
elseif op == 'close' then
    redis.call('ZREM', KEYS[1], conn)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local status = 'OFFLINE'
if n > 0 then
    if now - last >= away then status = 'AWAY' else status = 'ONLINE' end
    redis.call('PEXPIRE', KEYS[1], math.floor(lease * 2))
end
local prev = redis.call('HGET', KEYS[2], ARGV[6])
local prev_status = 'OFFLINE'
local seen = 0
if prev then
    prev_status = string.match(prev, '^(%u+)') or 'OFFLINE'
    seen = tonumber(string.match(prev, '|(%d+)$')) or 0
end
local changed = 0
if status ~= prev_status then changed = 1 end
if status ~= 'OFFLINE' or changed == 1 then
    seen = now
    redis.call('HSET', KEYS[2], ARGV[6], status .. '|' .. now)
end
if n > 0 then
    local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    local due = tonumber(first[2])
    if status == 'ONLINE' and last + away < due then due = last + away end
    redis.call('ZADD', KEYS[4], due, ARGV[7])
else
    redis.call('ZREM', KEYS[4], ARGV[7])
end
return {status, changed, seen}
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


def _status_key(workspace: str) -> str:
    return f"chat:presence:{workspace}"


def _text(raw: object) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _parse(raw: object) -> tuple[Status, datetime | None]:
    if raw is None:
        return "OFFLINE", None
    status, _, seen = _text(raw).partition("|")
    at = datetime.fromtimestamp(int(seen) / 1000, UTC) if seen.isdigit() else None
    return cast("Status", status), at


class Presence:
    """The Redis side of presence for one service context."""

    def __init__(
        self, redis: Redis, *, lease_s: float, away_s: float, connections: int = 4
    ) -> None:
        self.redis = redis
        self.batch = RedisBatch(redis, in_flight=connections)
        self.lease_ms = int(lease_s * 1000)
        self.away_ms = int(away_s * 1000)
        self._touch = redis.register_script(_TOUCH)
        self._sockets = SocketLeases(redis, "chat:sockets", lease_s, self.batch)

    async def touch(self, workspace: str, user: str, conn: str, op: Op) -> tuple[PresenceOut, bool]:
        """Apply ``op`` to one connection's lease; the user's status and whether it changed."""
        keys = [
            f"chat:presence:conns:{workspace}:{user}",
            _status_key(workspace),
            f"chat:presence:active:{workspace}:{user}",
            DUE_KEY,
            f"chat:presence:workspaces:{user}",
        ]
        args: list[str | int] = [
            op,
            conn,
            _now_ms(),
            self.lease_ms,
            self.away_ms,
            user,
            f"{workspace}|{user}",
        ]
        status, changed, seen = await self.batch.script(self._touch, keys, [*args, workspace])
        at = datetime.fromtimestamp(int(seen) / 1000, UTC) if int(seen) else None
        found = PresenceOut(UUID(user), UUID(workspace), cast("Status", _text(status)), at)
        return found, bool(changed)

    async def socket(
        self, user: str, conn: str, op: Literal["open", "renew", "close"], most: int
    ) -> bool:
        """Count one socket of ``user``; False when opening it would exceed ``most``."""
        return await self._sockets.count(user, conn, op, most)

    async def statuses(self, workspace: str, users: list[str]) -> list[Status]:
        """The users' statuses in ``workspace`` (read outside any transaction: no
        connection of the database waits on Redis)."""
        if not users:
            return []
        key = _status_key(workspace)
        raw = await self.batch.call(lambda pipe: pipe.hmget(key, users))
        return [_parse(r)[0] for r in raw]

    async def statuses_many(self, asked: Iterable[tuple[str, list[str]]]) -> list[list[Status]]:
        """:meth:`statuses` of several (workspace, users), in one round trip."""
        return list(await asyncio.gather(*(self.statuses(w, users) for w, users in asked)))

    async def all(self, workspace: str) -> dict[str, tuple[Status, datetime | None]]:
        key = _status_key(workspace)
        raw = await self.batch.call(lambda pipe: pipe.hgetall(key))
        return {_text(k): _parse(v) for k, v in raw.items()}

    async def one(self, workspace: str, user: str) -> tuple[Status, datetime | None]:
        key = _status_key(workspace)
        return _parse(await self.batch.call(lambda pipe: pipe.hget(key, user)))

    async def workspaces_of(self, user: str) -> list[str]:
        key = f"chat:presence:workspaces:{user}"
        raw = await self.batch.call(lambda pipe: pipe.smembers(key))
        return sorted(_text(r) for r in raw)

    async def due(self, limit: int = 200) -> list[tuple[str, str]]:
        now = _now_ms()
        raw = await self.batch.call(
            lambda pipe: pipe.zrangebyscore(DUE_KEY, "-inf", now, start=0, num=limit)
        )
        found = []
        for member in raw:
            workspace, _, user = _text(member).partition("|")
            found.append((workspace, user))
        return found


def presence_of(ctx: ServiceContext) -> Presence:
    """The context's :class:`Presence` (made on first use)."""
    found = ctx.state.get("presence")
    if found is None:
        settings = settings_of(ctx)
        found = Presence(
            ctx.redis,
            lease_s=settings.presence_lease_s,
            away_s=settings.presence_away_s,
            connections=settings.presence_redis_connections,
        )
        ctx.state["presence"] = found
    assert isinstance(found, Presence)
    return found


async def announce(ctx: ServiceContext, presence: PresenceOut) -> None:
    """``USER_STATUS`` to every presence socket of the workspace, in every instance."""
    topic = topics.presence(str(presence.workspace_id))
    await hub_of(ctx).publish(topic, status_frame(presence).encode())


async def do_touch(ctx: ServiceContext, workspace: str, user: str, conn: str, op: Op) -> None:
    found, changed = await presence_of(ctx).touch(workspace, user, conn, op)
    if changed:
        await announce(ctx, found)


async def do_touch_all(
    ctx: ServiceContext, workspaces: Iterable[str], user: str, conn: str, op: Op
) -> None:
    """:func:`do_touch` in each workspace at once (one round trip); the first error is
    raised after every touch was tried."""
    results = await asyncio.gather(
        *(do_touch(ctx, w, user, conn, op) for w in workspaces), return_exceptions=True
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def do_sweep(ctx: ServiceContext) -> int:
    """Recompute the users whose lease or activity ran out; returns how many changed."""
    presence = presence_of(ctx)
    due = await presence.due()
    touched = await asyncio.gather(
        *(presence.touch(w, u, "", "sweep") for w, u in due), return_exceptions=True
    )
    moved = [t[0] for t in touched if not isinstance(t, BaseException) and t[1]]
    await asyncio.gather(*(announce(ctx, found) for found in moved))
    for failed in touched:  # the changes that were made are announced first
        if isinstance(failed, BaseException):
            raise failed
    return len(moved)


async def online_users(ctx: ServiceContext, me: UUID, workspace_id: UUID) -> list[PresenceOut]:
    """The workspace's ONLINE users, for a member of it."""
    await access_workspace(ctx, workspace_id, me)
    found = await presence_of(ctx).all(str(workspace_id))
    return [
        PresenceOut(UUID(user), workspace_id, status, seen)
        for user, (status, seen) in sorted(found.items())
        if status == "ONLINE"
    ]


async def status_of_user(
    ctx: ServiceContext, me: UUID, user_id: UUID, workspace_id: UUID | None
) -> PresenceOut:
    """A user's presence in a workspace both share; 404 when they share none.

    Without ``workspace_id``: the workspaces the user was seen in lately, the caller's
    among them, the most present status first.
    """
    presence = presence_of(ctx)
    candidates = [str(workspace_id)] if workspace_id else await presence.workspaces_of(str(user_id))
    shared = []
    for workspace in candidates:
        mine = await ctx.membership.get(workspace, str(me))
        theirs = await ctx.membership.get(workspace, str(user_id))
        if mine.is_member and theirs.is_member:
            shared.append(workspace)
    seen_in = await asyncio.gather(*(presence.one(w, str(user_id)) for w in shared))
    best: PresenceOut | None = None
    rank = {"ONLINE": 0, "AWAY": 1, "OFFLINE": 2}
    for workspace, (status, seen) in zip(shared, seen_in, strict=True):
        found = PresenceOut(user_id, UUID(workspace), status, seen)
        if best is None or rank[found.status] < rank[best.status]:
            best = found
    if best is None:
        raise NotFound("presence not found")
    return best
