"""What the noti actions share: ids, settings, the wire form of a row, the unread-count
cache and the fan-out to the target's open streams.

Access policy: a notification is its target's alone. Every query filters on the caller
as ``target_user_id``, so another user's notification is "not found", never shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from redis.exceptions import RedisError

from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.errors import Unauthorized
from wealist.core.ids import parse_uuid
from wealist.core.security import Principal
from wealist.noti.rows import NotificationRow, ReadRow, ReplayRow
from wealist.noti.schemas import NotificationOut
from wealist.noti.settings import NotiSettings

__all__ = (
    "caller_id",
    "invalidate_unread",
    "notification_out",
    "parse_uuid",
    "publish",
    "read_unread_cache",
    "settings_of",
    "write_unread_cache",
)

# The unread count lives under the contract's key; a generation counter next to it lets a
# reader store what it computed only if no change committed since it began (a reader that
# raced a change would otherwise cache the old count for the whole TTL).
_SET_IF_SAME_GENERATION = """
local generation = redis.call('GET', KEYS[2]) or ''
if generation == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
    return 1
end
return 0
"""
GENERATION_TTL_S = 86_400  # far longer than any count query takes


def unread_key(user: UUID, workspace: UUID) -> str:
    return f"unread:{user}:{workspace}"


def unread_generation_key(user: UUID, workspace: UUID) -> str:
    return f"unread:gen:{user}:{workspace}"


def caller_id(caller: Principal) -> UUID:
    try:
        return UUID(caller.user_id)
    except ValueError:  # tokens of this system always carry a UUID subject
        raise Unauthorized("the token's subject is not a user id") from None


def settings_of(ctx: ServiceContext) -> NotiSettings:
    settings = ctx.settings
    assert isinstance(settings, NotiSettings)
    return settings


def notification_out(row: NotificationRow | ReadRow) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        type=row.type,
        actor_id=row.actor_id,
        target_user_id=row.target_user_id,
        workspace_id=row.workspace_id,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        resource_name=row.resource_name,
        metadata=row.metadata,
        is_read=row.is_read,
        read_at=row.read_at,
        created_at=row.created_at,
        seq=row.seq,
    )


def replayed_out(row: ReplayRow) -> NotificationOut:
    """A replayed row (the replay query's notification columns are set)."""
    assert row.id is not None and row.type is not None and row.created_at is not None
    assert row.actor_id is not None and row.target_user_id is not None
    assert row.workspace_id is not None and row.resource_type is not None
    assert row.resource_id is not None and row.is_read is not None
    return NotificationOut(
        id=row.id,
        type=row.type,
        actor_id=row.actor_id,
        target_user_id=row.target_user_id,
        workspace_id=row.workspace_id,
        resource_type=row.resource_type,
        resource_id=row.resource_id,
        resource_name=row.resource_name,
        metadata=row.metadata,
        is_read=row.is_read,
        read_at=row.read_at,
        created_at=row.created_at,
        seq=row.seq,
    )


async def publish(ctx: ServiceContext, frames: Iterable[tuple[UUID, bytes]]) -> None:
    """Send frames to their users' topics (every noti process with a stream of the user
    gets each once), in one round trip. Best effort: a stream that misses a frame finds
    the notification by its seq when the next one arrives, or when the broker resyncs."""
    batch = list(frames)
    if not batch:
        return
    try:
        async with ctx.redis.pipeline(transaction=False) as pipe:
            for user, frame in batch:
                _ = pipe.publish(topics.user(str(user)), frame)  # queued, not sent yet
            await pipe.execute()
    except RedisError as exc:
        ctx.log.warning("noti.publish_failed", error=type(exc).__name__, frames=len(batch))


async def invalidate_unread(ctx: ServiceContext, pairs: Iterable[tuple[UUID, UUID]]) -> None:
    """After a commit that changed unread counts of (user, workspace) pairs: drop the
    cached counts and move their generations on, so a read in flight does not store an
    old count. A failure is logged: the stale count then lives until its TTL."""
    unique = set(pairs)
    if not unique:
        return
    try:
        async with ctx.redis.pipeline(transaction=False) as pipe:
            for user, workspace in unique:
                generation = unread_generation_key(user, workspace)
                _ = pipe.incr(generation)  # queued commands; execute() sends them
                _ = pipe.expire(generation, GENERATION_TTL_S)
                _ = pipe.delete(unread_key(user, workspace))
            await pipe.execute()
    except RedisError as exc:
        ctx.log.warning("noti.unread_invalidate_failed", error=type(exc).__name__)


async def read_unread_cache(
    ctx: ServiceContext, user: UUID, workspace: UUID
) -> tuple[int | None, str]:
    """(cached count or None, the generation to store a fresh count under)."""
    try:
        cached, generation = await ctx.redis.mget(
            [unread_key(user, workspace), unread_generation_key(user, workspace)]
        )
    except RedisError:
        return None, "\x00unavailable"  # never equal to a stored generation: no write
    count = int(cached) if cached is not None and cached.isdigit() else None
    return count, _text(generation)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


async def write_unread_cache(
    ctx: ServiceContext, user: UUID, workspace: UUID, count: int, generation: str
) -> None:
    if generation == "\x00unavailable":
        return
    try:
        await ctx.redis.eval(
            _SET_IF_SAME_GENERATION,
            2,
            unread_key(user, workspace),
            unread_generation_key(user, workspace),
            generation,
            count,
            settings_of(ctx).unread_cache_ttl_s,
        )
    except RedisError as exc:
        ctx.log.warning("noti.unread_cache_write_failed", error=type(exc).__name__)
