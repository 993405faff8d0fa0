"""Fan-out acceptance tests against real processes: slow consumers and cross-process delivery."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.core.realtime.clients import ROUTES, Client, room, stats
from tests.core.realtime.rawws import RawWebSocket
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import TokenIssuer

pytestmark = pytest.mark.slow


def kernel_send_buffer_max() -> int:
    """The most a socket's send buffer may grow to (Linux autotuning ceiling)."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 * 1024 * 1024


async def collect(client: Client, count: int, into: list[int]) -> None:
    """Read ``said`` frames ``"<i>:<padding>"`` until ``count`` of them arrived."""
    while len(into) < count:
        frame = await client.recv(timeout=60)
        if frame.get("type") == "said":
            into.append(int(frame["text"].split(":", 1)[0]))


async def test_a_slow_websocket_consumer_does_not_delay_others(
    service_process: Callable[..., Any], ws_client: Callable[..., Any], issuer: TokenIssuer
) -> None:
    proc = await service_process("board", routes=ROUTES, env={"WEALIST_WS_QUEUE_SIZE": "8"})
    name = room()
    count = 2000
    # Enough bytes that the kernel's socket buffers cannot hide a stalled reader: three
    # times the largest send buffer a socket may autotune to (~8 MiB on a 4 MiB default).
    padding = "x" * max(4096, 3 * kernel_send_buffer_max() // count)

    # The stalled client: a raw socket that completes the handshake and then never
    # reads. The ``websockets`` client would keep reading into its own buffer in the
    # background; this one leaves the bytes in a 4 KiB kernel receive buffer, so TCP
    # closes its window and the server's sends to it really block.
    stalled = await RawWebSocket.connect(
        f"{proc.ws_url}/probe/rt/ws/{name}?token={issuer.token()}", rcvbuf=4096
    )
    try:
        assert stalled.status == 101  # accepted after joining: it is subscribed
        async with (
            ws_client(proc, f"/probe/rt/ws/{name}") as healthy,
            ws_client(proc, f"/probe/rt/ws/{name}") as sender,
        ):
            healthy_got: list[int] = []
            sender_got: list[int] = []
            readers = [
                asyncio.create_task(collect(healthy, count, healthy_got)),
                asyncio.create_task(collect(sender, count, sender_got)),
            ]
            # One socket's frames are handled in order, so the room sees this order. The
            # sender keeps at most WINDOW frames ahead of the slower healthy reader: the
            # healthy queues (8 frames) never fill on a busy machine, while the stalled
            # one, which reads nothing, must overflow whatever the pace.
            window = 4
            for i in range(count):
                while i - min(len(healthy_got), len(sender_got)) > window:
                    await asyncio.sleep(0.001)
                await sender.send({"type": "say", "text": f"{i}:{padding}"})
            await asyncio.wait_for(asyncio.gather(*readers), 120)

            # Every healthy client got everything, once and in order.
            assert healthy_got == list(range(count))
            assert sender_got == list(range(count))
            # The stalled socket was dropped by the server with 1013, not buffered for:
            # the server reports its session ended while the client still has not read.
            report = await eventually(lambda: _ended_with(stats(proc), 1013), timeout=30)
            assert report["open"] == 2  # the two healthy sessions go on
            assert report["sockets"] == 2

        # Now read what reached the stalled client: a prefix of the stream, in order,
        # then the 1013 close frame (or the end of the connection, if the server gave up
        # on delivering even the close frame to a peer that does not read).
        drained = await stalled.drain(timeout=60)
        received = [
            int(json.loads(text)["text"].split(":", 1)[0])
            for text in drained.texts
            if '"said"' in text
        ]
        assert received == list(range(len(received)))
        assert len(received) < count
        assert drained.close_code == 1013 or (drained.close_code is None and drained.eof)
    finally:
        stalled.close()


async def _ended_with(report: Any, code: int) -> dict[str, Any] | None:
    found: dict[str, Any] = await report
    return found if code in found["ended"] else None


async def numsub(redis: Redis, topic: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(topic)
    return int(count)


async def test_a_publish_from_one_process_reaches_sockets_on_another(
    service_process: Callable[..., Any], ws_client: Callable[..., Any], redis: Redis
) -> None:
    a = await service_process("board", routes=ROUTES)
    b = await service_process("board", routes=ROUTES)
    name = room()
    async with (
        ws_client(b, f"/probe/rt/ws/{name}") as on_b,
        ws_client(a, f"/probe/rt/ws/{name}") as on_a,
        ws_client(a, f"/probe/rt/ws/{name}") as also_on_a,
        httpx.AsyncClient() as http,
    ):
        # One Redis subscription per process, however many sockets it serves.
        assert await numsub(redis, f"probe:{name}") == 2

        for origin, n in ((a, 1), (b, 2)):
            response = await http.post(f"{origin.url}/probe/publish/{name}", json={"n": n})
            assert response.status_code == 201
            marker = await http.post(f"{origin.url}/probe/publish/{name}", json={"marker": n})
            assert marker.status_code == 201
            for client in (on_a, also_on_a, on_b):
                # Exactly once: the next frame after the event is the marker.
                assert await client.recv() == {"n": n}
                assert await client.recv() == {"marker": n}
