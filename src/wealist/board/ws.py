"""The live board socket: ``/ws/project/{projectId}?token=<access JWT>[&after=<seq>]``.

The token and the caller's access are checked before the handshake completes (a refused
socket never sees a frame). The socket then joins the project's topic, is replayed what
it missed since ``after`` (or gets ``reset``), and receives each later event exactly once,
in sequence order (the kernel's :class:`~wealist.core.realtime.sequence.Sequencer`). While
it is open it counts as one connection of its user in the project's online list, and its
access is re-checked periodically - and at once when the user service signals that its
user lost a workspace (``topics.access``): a user who leaves the workspace is
disconnected (4403). The periodic check also reads the log for events that were committed
but never published.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import msgspec
from litestar import WebSocket, websocket
from litestar.params import FromPath

from wealist.board.actions import live
from wealist.board.actions.common import caller_id, parse_uuid, settings_of
from wealist.contracts import topics
from wealist.core.deps import Ctx
from wealist.core.errors import AppError, NotFound
from wealist.core.jobs import cancel_and_wait
from wealist.core.realtime.hub import Subscriber
from wealist.core.realtime.sequence import CATCH_UP, Sequencer, reset_frame
from wealist.core.realtime.ws import (
    PONG,
    AccessWatch,
    SessionLimits,
    authenticate_socket,
    error_frame,
    run_session,
)

__all__ = ("project_socket",)

FORBIDDEN_CLOSE_CODE = 4403  # no access (any more)
NOT_FOUND_CLOSE_CODE = 4404
BAD_REQUEST_CLOSE_CODE = 4400
TOO_MANY_SOCKETS_CLOSE_CODE = 4409  # over ws_sockets_per_user
MAX_CLIENT_FRAME = 4096  # clients only send pings (the original capped frames at 512 bytes)
ACCESS_CHECK_S = 30.0

_frames = msgspec.json.Decoder(dict[str, Any])


def _after(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise AppError("after must be a sequence number", code="VALIDATION_ERROR")
    return int(raw)


async def _handle(frame: dict[str, Any], sub: Subscriber) -> None:
    """Clients may send ``{"type":"ping"}``; anything else is ignored (contract 5.7)."""
    if frame.get("type") == "ping":
        sub.offer(PONG)


async def _watch(ctx: Any, me: UUID, project_id: UUID, sub: Subscriber, connection: str) -> None:
    """Keep the connection in the online list, end it when access is lost, and read the
    log for anything never published (a process that died between commit and publish)."""
    every = min(ACCESS_CHECK_S, settings_of(ctx).online_ttl_s / 3)
    while True:
        await asyncio.sleep(every)
        await live.mark_online(ctx, project_id, connection)
        await live.count_socket(ctx, me, connection, "renew")
        try:
            await live.check_access(ctx, me, project_id)
        except NotFound:
            sub.shut(FORBIDDEN_CLOSE_CODE)
            return
        except AppError:  # the check could not be made (outage): keep the socket
            continue
        sub.offer(CATCH_UP)


@websocket("/ws/project/{projectId:str}")
async def project_socket(
    socket: WebSocket[Any, Any, Any],
    ctx: Ctx,
    projectId: FromPath[str],  # noqa: N803  # the contract's name
) -> None:
    principal = await authenticate_socket(socket, ctx)
    if principal is None:
        return
    try:
        me = caller_id(principal)
        project_id = parse_uuid(projectId, "projectId")
        after = _after(socket.query_params.get("after"))
        await live.check_access(ctx, me, project_id)
    except NotFound as exc:
        await socket.close(code=NOT_FOUND_CLOSE_CODE, reason=exc.message)
        return
    except AppError as exc:
        await socket.close(code=BAD_REQUEST_CLOSE_CODE, reason=exc.message)
        return
    connection = live.connection_id(me)
    if not await live.count_socket(
        ctx, me, connection, "open", settings_of(ctx).ws_sockets_per_user
    ):
        with contextlib.suppress(Exception):  # say why, then close (the client sees both)
            await socket.accept()
            await socket.send_text(error_frame("TOO_MANY_SOCKETS", "too many open sockets"))
            await socket.close(code=TOO_MANY_SOCKETS_CLOSE_CODE, reason="too many open sockets")
        return
    hub = ctx.hub
    assert hub is not None  # the board service is realtime

    async def fetch(after: int, upto: int | None) -> list[str]:
        return await live.missing(ctx, project_id, after, upto)

    sequencer = Sequencer(0, fetch, lambda seq: reset_frame(seq, "gap", projectId=str(project_id)))

    async def still_allowed(_workspace: str) -> bool:
        try:
            await live.check_access(ctx, me, project_id)
        except NotFound:
            return False
        return True

    async def on_gap() -> None:  # pub/sub was down: the log has what it may have dropped
        sub.offer(CATCH_UP)

    sub = hub.subscriber(on_gap=on_gap)

    async def on_joined(_: Subscriber) -> list[str]:
        start = await live.replay(ctx, me, project_id, after)
        sequencer.last = start.last
        return start.frames

    await live.mark_online(ctx, project_id, connection)
    watcher = asyncio.create_task(_watch(ctx, me, project_id, sub, connection))
    settings, board = ctx.settings, settings_of(ctx)
    try:
        await run_session(
            socket,
            hub,
            topics=[topics.project(str(project_id))],
            decoder=_frames,
            handler=_handle,
            limits=SessionLimits(
                heartbeat_s=settings.ws_heartbeat_s,
                max_frame_bytes=min(settings.ws_max_frame_bytes, MAX_CLIENT_FRAME),
                frames_per_s=board.ws_frames_per_s,
                rate_strikes=board.ws_rate_strikes,
            ),
            subscriber=sub,
            on_joined=on_joined,
            admit=sequencer.admit,
            access=AccessWatch(str(me), still_allowed),
        )
    finally:
        await cancel_and_wait([watcher])
        await live.mark_offline(ctx, project_id, connection)
        await live.count_socket(ctx, me, connection, "close")
