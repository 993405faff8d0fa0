"""The real-time benchmark's fan-out ceiling: rooms over nothing but Granian's ASGI bridge.

A socket at ``/ws/<room>`` joins that room. Every text frame it sends is answered with an
ack naming its ``clientMessageId`` and sent, as it came, to every socket of the room, the
sender's included (``gather``): the work the chat service's fan-out does for a message
(ack to the sender, the frame to each socket of the chat), minus storing, sequencing and
the broker. ``bench.realtime`` drives it with the chat's rooms, sockets and rates.
"""

from __future__ import annotations

import asyncio
from typing import Any

ROOMS: dict[str, set[Any]] = {}
_ID = '"clientMessageId":"'


def _ack(text: str) -> str:
    start = text.find(_ID)
    if start < 0:
        return '{"type":"MESSAGE_ACK"}'
    start += len(_ID)
    return '{"type":"MESSAGE_ACK","clientMessageId":"' + text[start : text.find('"', start)] + '"}'


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    room = ROOMS.setdefault(scope["path"].rsplit("/", 1)[-1], set())
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    room.add(send)
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                return
            text = event.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": _ack(text)})
                frame = {"type": "websocket.send", "text": text}
                await asyncio.gather(*(peer(frame) for peer in tuple(room)), return_exceptions=True)
    finally:
        room.discard(send)
