"""Probe routes mounted on real service specs by kernel tests (never shipped in an app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import WebSocket, get, post, websocket
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.types import ControllerRouterHandler

from wealist.core.deps import Caller, Ctx, Internal
from wealist.core.errors import AlreadyExists, Forbidden, NotFound
from wealist.core.realtime import sse
from wealist.core.realtime.hub import Subscriber
from wealist.core.realtime.ws import Ping, authenticate_socket, run_session


class Me(msgspec.Struct):
    userId: str
    email: str | None


class Echo(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    count: int = 0


class Say(msgspec.Struct, tag="say", tag_field="type"):
    text: str


Frame = Say | Ping
DECODER = msgspec.json.Decoder(Frame)


@get("/probe/me")
async def me(caller: Caller) -> Me:
    return Me(caller.user_id, caller.email)


@get("/probe/error/{kind:str}")
async def error(kind: FromPath[str]) -> None:
    if kind == "not-found":
        raise NotFound("No such thing")
    if kind == "forbidden":
        raise Forbidden
    if kind == "conflict":
        raise AlreadyExists("Already there")
    raise RuntimeError("internal detail: db at 10.1.2.3")


@get("/api/internal/probe")
async def internal_probe(internal: Internal) -> dict[str, str | None]:
    return {"caller": internal.service}


@post("/probe/echo")
async def echo(data: JSONBody[Echo]) -> Echo:
    return data


@get("/probe/db")
async def db(ctx: Ctx) -> dict[str, Any]:
    async with ctx.database.connection() as conn:
        one = await conn.fetch_val("SELECT 1")
        two = await conn.fetch_val("SELECT 2")
    return {"sum": one + two}


@post("/probe/publish/{room:str}")
async def publish(ctx: Ctx, room: FromPath[str], data: JSONBody[dict[str, Any]]) -> dict[str, bool]:
    assert ctx.hub is not None
    await ctx.hub.publish(f"probe:{room}", msgspec.json.encode(data))
    return {"published": True}


@get("/probe/stream", opt={"token_in_query": True})
async def stream(ctx: Ctx, caller: Caller) -> Stream:
    """An SSE stream of the caller's topic; ``POST /probe/notify/{userId}`` feeds it."""
    assert ctx.hub is not None
    sub = ctx.hub.subscriber()
    await ctx.hub.join(sub, f"probe:user:{caller.user_id}")
    hub = ctx.hub

    async def events() -> AsyncIterator[bytes]:
        try:
            connected = sse.format_event('{"status":"connected"}', event="connected")
            async for chunk in sse.stream(sub, [connected], ping_s=ctx.settings.sse_ping_s):
                yield chunk
        finally:
            await hub.leave(sub)

    return Stream(events(), media_type="text/event-stream", headers=sse.SSE_HEADERS)


@post("/probe/notify/{user_id:str}")
async def notify(ctx: Ctx, user_id: FromPath[str], data: JSONBody[dict[str, Any]]) -> None:
    assert ctx.hub is not None
    event = sse.format_event(msgspec.json.encode(data).decode(), event="notification", id="1")
    await ctx.hub.publish(f"probe:user:{user_id}", event)


@websocket("/probe/ws/{room:str}")
async def socket(socket: WebSocket[Any, Any, Any], ctx: Ctx, room: FromPath[str]) -> None:
    principal = await authenticate_socket(socket, ctx)
    if principal is None:
        return
    assert ctx.hub is not None
    hub = ctx.hub
    await socket.accept()

    async def handle(frame: Say | Ping, sub: Subscriber) -> None:
        assert isinstance(frame, Say)
        body = {"type": "said", "by": principal.user_id, "text": frame.text}
        await hub.publish(f"probe:{room}", msgspec.json.encode(body))

    await run_session(
        socket,
        hub,
        topics=[f"probe:{room}"],
        decoder=DECODER,
        handler=handle,
        limits=ctx_limits(ctx),
    )


def ctx_limits(ctx: Ctx):  # type: ignore[no-untyped-def]
    from wealist.core.realtime.ws import SessionLimits

    return SessionLimits(
        heartbeat_s=ctx.settings.ws_heartbeat_s, max_frame_bytes=ctx.settings.ws_max_frame_bytes
    )


ROUTES: list[ControllerRouterHandler] = [
    me,
    error,
    echo,
    db,
    publish,
    socket,
    internal_probe,
    stream,
    notify,
]
