"""The ceilings' servers: nothing but Granian and the protocol, no framework, no kernel.

``hello``: RSGI hello world (the HTTP ceiling). ``fanout``: an ASGI WebSocket app that
sends every text frame it receives to every connected socket at once (``gather``), the
fastest fan-out shape measured on Granian's ASGI bridge (notes/performance.md).
"""

from __future__ import annotations

import asyncio
from typing import Any

BODY = b"Hello, world!"


async def hello(scope: Any, protocol: Any) -> None:
    protocol.response_bytes(200, [("content-type", "text/plain")], BODY)


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
