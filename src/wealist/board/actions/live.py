"""The live board: events of a project, stored with their sequence number and published
after commit; and what a socket needs (replay from a sequence number, online users).

Frames are the contract's ``{type, payload, boardId?}`` with ``seq`` first (the kernel's
sequenced frames) and ``projectId``/``actorId``. A frame is encoded once and the same
bytes are stored, published and sent to every socket.
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from uuid import UUID

import msgspec
from redis.exceptions import RedisError

from wealist.board import store
from wealist.board.actions.common import access_project, settings_of
from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.db import Tx
from wealist.core.realtime.leases import Op, SocketLeases
from wealist.core.realtime.sequence import reset_frame

__all__ = (
    "BOARD_CREATED",
    "BOARD_DELETED",
    "BOARD_MOVED",
    "BOARD_UPDATED",
    "COMMENT_CREATED",
    "COMMENT_DELETED",
    "COMMENT_UPDATED",
    "FIELD_OPTIONS_CHANGED",
    "PROJECT_DELETED",
    "PROJECT_MEMBERS_CHANGED",
    "PROJECT_UPDATED",
    "Replay",
    "emit",
    "online_users",
    "replay",
)

BOARD_CREATED = "BOARD_CREATED"
BOARD_UPDATED = "BOARD_UPDATED"
BOARD_DELETED = "BOARD_DELETED"
BOARD_MOVED = "BOARD_MOVED"
COMMENT_CREATED = "COMMENT_CREATED"
COMMENT_UPDATED = "COMMENT_UPDATED"
COMMENT_DELETED = "COMMENT_DELETED"
PROJECT_UPDATED = "PROJECT_UPDATED"
PROJECT_DELETED = "PROJECT_DELETED"
PROJECT_MEMBERS_CHANGED = "PROJECT_MEMBERS_CHANGED"
FIELD_OPTIONS_CHANGED = "FIELD_OPTIONS_CHANGED"


class Event(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    type: str
    project_id: UUID
    payload: Any
    board_id: UUID | None = None
    actor_id: UUID | None = None


_encode = msgspec.json.Encoder().encode


async def emit(
    ctx: ServiceContext,
    tx: Tx,
    project_id: UUID,
    kind: str,
    payload: object,
    *,
    actor: UUID,
    board_id: UUID | None = None,
) -> None:
    """Store the project's next event in ``tx``; publish it once ``tx`` commits.

    Callers hold the project's row lock (``lock_project``), so sequence numbers follow
    commit order.
    """
    body = _encode(
        Event(type=kind, project_id=project_id, payload=payload, board_id=board_id, actor_id=actor)
    )
    frame = await store.events.append_event(tx, project_id, body[1:].decode())
    hub = ctx.hub
    if hub is None:
        return
    topic = topics.project(str(project_id))

    async def publish() -> None:
        await hub.publish(topic, frame.encode())

    tx.on_commit(publish)


# --- sockets ----------------------------------------------------------------------------


class Replay(msgspec.Struct, frozen=True):
    """Where a socket starts: the frames to send first and the last sequence number sent."""

    frames: list[str]
    last: int


async def replay(ctx: ServiceContext, me: UUID, project_id: UUID, after: int | None) -> Replay:
    """For a socket that just subscribed: what it missed since ``after`` (or ``reset``
    when the log no longer holds it), else nothing but a ``connected`` frame."""
    limit = settings_of(ctx).replay_limit
    async with ctx.database.connection() as conn:
        await access_project(ctx, conn, project_id, me)  # still readable now
        bounds = await store.events.event_bounds(conn, project_id)
        last = bounds.last if bounds is not None else 0
        oldest = bounds.oldest if bounds is not None and bounds.oldest is not None else last + 1
        if after is None or after == last:
            return Replay([_connected(project_id, last)], last)
        if after > last or after + 1 < oldest or last - after > limit:
            why = "ahead" if after > last else "too_old"
            return Replay([reset_frame(last, why, projectId=str(project_id))], last)
        frames = await store.events.events_after(conn, project_id, after, last, limit)
    return Replay([_connected(project_id, last), *frames], last)


def _connected(project_id: UUID, seq: int) -> str:
    return _encode({"type": "connected", "projectId": project_id, "currentSeq": seq}).decode()


async def check_access(ctx: ServiceContext, me: UUID, project_id: UUID) -> None:
    """The caller may follow the project (a member of its workspace); 404 otherwise."""
    async with ctx.database.connection() as conn:
        await access_project(ctx, conn, project_id, me)


async def missing(ctx: ServiceContext, project_id: UUID, after: int, upto: int | None) -> list[str]:
    """Frames after ``after`` up to ``upto`` (a socket's gap), from the event log."""
    async with ctx.database.connection() as conn:
        return await store.events.events_after(
            conn, project_id, after, upto, settings_of(ctx).replay_limit
        )


# --- who is online (per connection: closing one tab keeps the user online) ----------------


def _online_key(project_id: UUID) -> str:
    return f"online:project:{project_id}"


def connection_id(me: UUID) -> str:
    return f"{me}:{uuid.uuid4().hex}"


async def mark_online(ctx: ServiceContext, project_id: UUID, connection: str) -> None:
    """This connection is alive until now + ``online_ttl_s`` (refreshed by heartbeats)."""
    ttl = settings_of(ctx).online_ttl_s
    key = _online_key(project_id)
    now = time.time()
    try:
        await ctx.redis.zadd(key, {connection: now + ttl})
        await ctx.redis.zremrangebyscore(key, "-inf", now)  # connections that went silent
        await ctx.redis.expire(key, int(ttl) + 60)
    except RedisError as exc:  # presence is best-effort; the socket works without it
        ctx.log.warning("board.online_write_failed", error=type(exc).__name__)


async def mark_offline(ctx: ServiceContext, project_id: UUID, connection: str) -> None:
    try:
        await ctx.redis.zrem(_online_key(project_id), connection)
    except RedisError as exc:
        ctx.log.warning("board.online_write_failed", error=type(exc).__name__)


async def count_socket(
    ctx: ServiceContext, me: UUID, connection: str, op: Op, most: int = 0
) -> bool:
    """Count one socket of ``me`` (``open``, ``renew``, ``close``); False when opening it
    would exceed ``most``. With Redis away the socket is admitted, uncounted."""
    leases = SocketLeases(ctx.redis, "board:sockets", settings_of(ctx).online_ttl_s)
    try:
        return await leases.count(str(me), connection, op, most)
    except RedisError as exc:
        ctx.log.warning("board.socket_count_failed", error=type(exc).__name__)
        return True


async def online_users(ctx: ServiceContext, me: UUID, project_id: UUID) -> list[str]:
    """Users with at least one live connection to the project's socket."""
    async with ctx.database.connection() as conn:
        await access_project(ctx, conn, project_id, me)
    members = await ctx.redis.zrangebyscore(_online_key(project_id), time.time(), "+inf")
    users = (m.decode().split(":", 1)[0] for m in members if isinstance(m, bytes))
    return list(dict.fromkeys(users))
