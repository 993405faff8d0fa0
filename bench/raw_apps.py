"""The ceilings' servers: nothing but Granian and the protocol, no framework, no kernel.

``fanout``: an ASGI WebSocket app that sends every text frame it receives to every
connected socket at once (``gather``), the fastest fan-out shape measured on Granian's ASGI
bridge. ``json_app`` and ``single_query``: the HTTP ceilings of ``bench.http`` (below).
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import orjson

SOCKETS: set[Any] = set()


async def _send_all(text: str) -> None:
    frame = {"type": "websocket.send", "text": text}
    await asyncio.gather(*(send(frame) for send in tuple(SOCKETS)), return_exceptions=True)


async def fanout(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    SOCKETS.add(send)
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            if event.get("text") is not None:
                await _send_all(event["text"])
    finally:
        SOCKETS.discard(send)


# --- the HTTP ceilings (bench.http) ------------------------------------------------------
# (a) ``json``: the smallest ASGI app answering JSON, what a Granian user starts from.
# (b) ``single_query``: the same plus one indexed SELECT through a psycopg pool per
#     request, TechEmpower's single-query shape (``BENCH_DB_URL``, table ``bench_world``).

_JSON_HEADERS = [(b"content-type", b"application/json")]


async def _lifespan(receive: Any, send: Any, opened: Any = None, closed: Any = None) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            if opened is not None:
                await opened()
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            if closed is not None:
                await closed()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def json_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = orjson.dumps({"status": "alive"})
    await send({"type": "http.response.start", "status": 200, "headers": _JSON_HEADERS})
    await send({"type": "http.response.body", "body": body})


WORLD_ROWS = 10_000
_POOL: list[Any] = []


async def _open_pool() -> None:
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(os.environ["BENCH_DB_URL"], min_size=10, max_size=10, open=False)
    await pool.open(wait=True)
    _POOL.append(pool)


async def _close_pool() -> None:
    await _POOL.pop().close()


async def single_query(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send, _open_pool, _close_pool)
        return
    async with _POOL[0].connection() as conn:
        cur = await conn.execute(
            "SELECT id, randomnumber FROM bench_world WHERE id = %s",
            (random.randint(1, WORLD_ROWS),),
        )
        row = await cur.fetchone()
    body = orjson.dumps({"id": row[0], "randomNumber": row[1]})
    await send({"type": "http.response.start", "status": 200, "headers": _JSON_HEADERS})
    await send({"type": "http.response.body", "body": body})
