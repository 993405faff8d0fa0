"""Probe routes for the real-time tests: ``tests.core.probe`` plus an observable socket.

``WS /probe/rt/ws/{room}`` is the probe socket with two differences: it leaves accepting
to :func:`run_session` (which accepts only after the topics are joined, so a connected
client is known to be subscribed), and it records how each session ended, which
``GET /probe/rt/stats`` reports - a test can see the server drop a socket whose client
never reads, without that client reading.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import WebSocket, get, websocket
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from tests.core import probe
from wealist.core.deps import Ctx
from wealist.core.realtime.hub import Subscriber
from wealist.core.realtime.ws import Ping, SessionLimits, authenticate_socket, run_session


class Stats(msgspec.Struct):
    open: int = 0
    ended: list[int] = msgspec.field(default_factory=list)  # close codes, in order
    sockets: int = 0  # the hub's count of local subscribers


STATS = Stats()


@websocket("/probe/rt/ws/{room:str}")
async def observed_socket(socket: WebSocket[Any, Any, Any], ctx: Ctx, room: FromPath[str]) -> None:
    principal = await authenticate_socket(socket, ctx)
    if principal is None:
        return
    assert ctx.hub is not None
    hub = ctx.hub

    async def handle(frame: probe.Say | Ping, sub: Subscriber) -> None:
        assert isinstance(frame, probe.Say)
        body = {"type": "said", "by": principal.user_id, "text": frame.text}
        await hub.publish(f"probe:{room}", msgspec.json.encode(body))

    limits = SessionLimits(
        heartbeat_s=ctx.settings.ws_heartbeat_s,
        max_frame_bytes=ctx.settings.ws_max_frame_bytes,
        close_timeout_s=1.0,
    )
    STATS.open += 1
    code = 0
    try:
        code = await run_session(
            socket,
            hub,
            topics=[f"probe:{room}"],
            decoder=probe.DECODER,
            handler=handle,
            limits=limits,
        )
    finally:
        STATS.open -= 1
        STATS.ended.append(code)


@websocket("/probe/rt/replay/{room:str}")
async def replaying_socket(
    socket: WebSocket[Any, Any, Any], ctx: Ctx, room: FromPath[str], n: int = 0
) -> None:
    """Sends ``n`` replayed frames (``{"replayed": i}``) from ``on_joined``, then live ones."""
    principal = await authenticate_socket(socket, ctx)
    if principal is None:
        return
    assert ctx.hub is not None

    async def replay(sub: Subscriber) -> list[str]:
        return [msgspec.json.encode({"replayed": i}).decode() for i in range(n)]

    async def handle(frame: probe.Say | Ping, sub: Subscriber) -> None:
        raise AssertionError("not used")

    await run_session(
        socket,
        ctx.hub,
        topics=[f"probe:{room}"],
        decoder=probe.DECODER,
        handler=handle,
        on_joined=replay,
    )


@get("/probe/rt/stats")
async def stats(ctx: Ctx) -> Stats:
    assert ctx.hub is not None
    STATS.sockets = ctx.hub.sockets
    return STATS


ROUTES: list[ControllerRouterHandler] = [*probe.ROUTES, observed_socket, replaying_socket, stats]
