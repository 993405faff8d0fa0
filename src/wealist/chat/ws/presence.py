"""``/api/chats/ws/presence?token=[&workspaceId=<id>[,<id>...]]`` (contract 6.3, fixed).

The socket counts as one connection of its user in each workspace it follows (the
``workspaceId`` ones, else the workspaces the user chats in, members only), and receives
``USER_STATUS`` for everyone there - on connect the current ONLINE/AWAY users, then every
change from any instance - plus ``NEW_MESSAGE_NOTIFICATION`` for the user's chats.
``heartbeat`` frames keep it alive (answered with ``pong``); ``{"type":"heartbeat",
"active":true}`` or ``ACTIVE`` also say the user is at the keyboard (else AWAY after
``presence_away_s``). When its user loses one of those workspaces (the user service's
signal on ``topics.access``), the socket closes with 4403 once the loss is confirmed; the
client reconnects with the workspaces it still has.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket

from wealist.chat import store
from wealist.chat.actions.common import caller_id, parse_uuid, settings_of
from wealist.chat.actions.presence import presence_of
from wealist.chat.frames import Active, Heartbeat, Ping, PresenceFrame, status_frame
from wealist.chat.schemas import PresenceOut
from wealist.chat.ws.common import (
    NOT_FOUND_CLOSE_CODE,
    TOO_MANY_SOCKETS_CLOSE_CODE,
    Connection,
    close_code_for,
    limits_of,
    refuse,
)
from wealist.contracts import topics
from wealist.core.context import ServiceContext
from wealist.core.deps import Ctx
from wealist.core.errors import AppError, NotFound
from wealist.core.realtime.hub import Subscriber
from wealist.core.realtime.ws import PONG, AccessWatch, authenticate_socket, run_session

__all__ = ("presence_socket",)

_decoder = msgspec.json.Decoder(PresenceFrame)


async def _workspaces(ctx: ServiceContext, me: UUID, raw: str | None) -> list[str]:
    """The workspaces the socket follows: asked for (each must be the caller's), or the
    ones the caller chats in and still belongs to."""
    most = settings_of(ctx).presence_workspaces_max
    if raw:
        asked = [parse_uuid(part.strip(), "workspaceId") for part in raw.split(",")][:most]
        strict = True
    else:
        async with ctx.database.connection() as conn:
            asked = await store.chat_workspaces_of_user(conn, me, most)
        strict = False
    found: list[str] = []
    for workspace in dict.fromkeys(asked):
        membership = await ctx.membership.get(str(workspace), str(me))
        if membership.is_member:
            found.append(str(workspace))
        elif strict:
            raise NotFound("workspace not found")
    return found


@websocket("/api/chats/ws/presence")
async def presence_socket(socket: WebSocket[Any, Any, Any], ctx: Ctx) -> None:
    principal = await authenticate_socket(socket, ctx)
    if principal is None:
        return
    me = caller_id(principal)
    try:
        workspaces = await _workspaces(ctx, me, socket.query_params.get("workspaceId"))
    except AppError as exc:
        code = close_code_for(exc) if not isinstance(exc, NotFound) else NOT_FOUND_CLOSE_CODE
        await socket.close(code=code, reason=exc.message[:100])
        return
    conn_state = Connection(ctx, str(me), workspaces)
    if not await conn_state.open():
        await refuse(
            socket, TOO_MANY_SOCKETS_CLOSE_CODE, "TOO_MANY_SOCKETS", "too many open sockets"
        )
        return
    presence = presence_of(ctx)

    async def on_joined(sub: Subscriber) -> list[str]:
        frames = []
        every = await asyncio.gather(*(presence.all(w) for w in workspaces))  # one round trip
        for workspace, statuses in zip(workspaces, every, strict=True):
            for user, (status, seen) in sorted(statuses.items()):
                if status != "OFFLINE":
                    found = PresenceOut(UUID(user), UUID(workspace), status, seen)
                    frames.append(status_frame(found))
        return frames

    async def handle(frame: Any, sub: Subscriber) -> None:
        if isinstance(frame, Ping | Heartbeat):
            conn_state.heard_from_client(active=isinstance(frame, Heartbeat) and frame.active)
            sub.offer(PONG)
        elif isinstance(frame, Active):
            conn_state.heard_from_client(active=True)

    async def still_allowed(workspace: str) -> bool:
        """Its user lost a workspace: the socket closes if it follows that one."""
        if workspace not in workspaces:
            return True
        return (await ctx.membership.get(workspace, str(me))).is_member

    assert ctx.hub is not None
    sub = ctx.hub.subscriber()
    try:
        async with conn_state.watchdog(sub):
            await run_session(
                socket,
                ctx.hub,
                topics=[*(topics.presence(w) for w in workspaces), topics.chat_user(str(me))],
                decoder=_decoder,
                handler=handle,
                limits=limits_of(ctx),
                subscriber=sub,
                on_joined=on_joined,
                access=AccessWatch(str(me), still_allowed),
            )
    finally:
        await conn_state.close()
