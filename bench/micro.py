"""Micro-benchmarks in one process, no servers: each a ratio of two ways of doing it.

- hot structs: msgspec encode and decode-with-validation of the structs every list and
  every socket frame carries, against the standard library's ``json`` (no validation);
- token verification: a full RS256 check against the verifier's cache of verified tokens;
- hub fan-out: one publish reaching N local subscribers through the kernel's hub, against
  the bare minimum (a loop putting the frame into N ``asyncio.Queue``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.results import Ratio, Results, per_call_us
from wealist.board.schemas.boards import BoardOut
from wealist.chat.schemas import MessageOut
from wealist.core.realtime.broker import Delivery, ReconnectListener
from wealist.core.realtime.hub import Hub
from wealist.core.security import Principal, StaticKeySet, TokenVerifier

BOARD: dict[str, Any] = {
    "boardId": str(uuid.uuid4()),
    "projectId": str(uuid.uuid4()),
    "workspaceId": str(uuid.uuid4()),
    "authorId": str(uuid.uuid4()),
    "assigneeId": str(uuid.uuid4()),
    "title": "Prepare the release notes",
    "content": "Collect the changes since the last release and write them up." * 3,
    "customFields": {"stage": "in_progress", "importance": "high", "role": "developer"},
    "participantIds": [str(uuid.uuid4()) for _ in range(3)],
    "attachments": [],
    "rank": "Vk",
    "version": 7,
    "createdAt": "2026-11-29T10:00:00.123456Z",
    "updatedAt": "2026-11-29T11:00:00.654321Z",
    "dueDate": "2026-12-05T00:00:00Z",
}
MESSAGE: dict[str, Any] = {
    "messageId": str(uuid.uuid4()),
    "chatId": str(uuid.uuid4()),
    "userId": str(uuid.uuid4()),
    "content": "Shall we move the stand-up to 10:30 tomorrow?",
    "messageType": "TEXT",
    "fileUrl": None,
    "fileName": None,
    "fileSize": None,
    "createdAt": "2026-11-29T10:00:00.123456Z",
    "updatedAt": "2026-11-29T10:00:00.123456Z",
    "deletedAt": None,
    "seq": 1234,
    "clientMessageId": "c-1",
    "reactions": [],
}


def structs(results: Results, scale: float) -> None:
    print("hot structs: a page of 50 boards, one chat message frame", flush=True)
    page_json = json.dumps([BOARD] * 50).encode()
    page = msgspec.json.decode(page_json, type=list[BoardOut])
    page_dicts = json.loads(page_json)
    encoder = msgspec.json.Encoder()
    rounds = max(20, int(400 * scale))
    ours = per_call_us(lambda: encoder.encode(page), rounds)
    stdlib = per_call_us(lambda: json.dumps(page_dicts).encode(), rounds)
    results.add(
        Ratio(
            "micro",
            "encode 50 BoardOut",
            f"msgspec {ours:.0f} us",
            f"json {stdlib:.0f} us",
            stdlib / ours,
            "times faster than the stdlib encoding plain dicts",
        )
    )
    decoder = msgspec.json.Decoder(list[BoardOut])
    ours = per_call_us(lambda: decoder.decode(page_json), rounds)
    stdlib = per_call_us(lambda: json.loads(page_json), rounds)
    results.add(
        Ratio(
            "micro",
            "decode+validate 50 BoardOut",
            f"msgspec {ours:.0f} us",
            f"json.loads {stdlib:.0f} us",
            stdlib / ours,
            "times faster than the stdlib parsing without any validation",
        )
    )
    message = msgspec.json.decode(json.dumps(MESSAGE), type=MessageOut)
    frame = {"type": "MESSAGE_RECEIVED", "seq": 1234, "message": message}
    frame_dict = {"type": "MESSAGE_RECEIVED", "seq": 1234, "message": MESSAGE}
    rounds = max(200, int(20_000 * scale))
    ours = per_call_us(lambda: encoder.encode(frame), rounds)
    stdlib = per_call_us(lambda: json.dumps(frame_dict).encode(), rounds)
    results.add(
        Ratio(
            "micro",
            "encode a chat frame",
            f"msgspec {ours:.1f} us",
            f"json {stdlib:.1f} us",
            stdlib / ours,
            "times faster than the stdlib",
        )
    )


class _NoRevocations:
    async def is_revoked(self, principal: Principal) -> bool:
        return False


def tokens(results: Results, scale: float) -> None:
    print("token verification: RS256 every time vs the verified-token cache", flush=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    rounds = max(200, int(2_000 * scale))
    issued = [
        jwt.encode(
            {
                "sub": str(uuid.uuid4()),
                "iss": "bench",
                "aud": "wealist-api",
                "iat": now,
                "exp": now + 900,
                "type": "access",
                "jti": uuid.uuid4().hex,
            },
            key,
            algorithm="RS256",
            headers={"kid": "k1"},
        )
        for _ in range(rounds)
    ]
    keys = StaticKeySet({"k1": key.public_key()})

    async def measure() -> tuple[float, float]:
        cold = TokenVerifier(keys, _NoRevocations(), "bench", cache_size=0)
        started = time.perf_counter()
        for token in issued:
            await cold.verify(token)
        cold_us = (time.perf_counter() - started) / rounds * 1e6
        warm = TokenVerifier(keys, _NoRevocations(), "bench")
        await warm.verify(issued[0])
        started = time.perf_counter()
        for _ in range(rounds):
            await warm.verify(issued[0])
        return cold_us, (time.perf_counter() - started) / rounds * 1e6

    cold_us, warm_us = asyncio.run(measure())
    results.add(
        Ratio(
            "micro",
            "token verification",
            f"cached {warm_us:.1f} us",
            f"full RS256 {cold_us:.0f} us",
            cold_us / warm_us,
            "times cheaper for a token seen before (every request after the first)",
        )
    )


def hub(results: Results, scale: float) -> None:
    for sockets in (100, 1000):
        print(f"hub fan-out to {sockets} local subscribers", flush=True)
        publishes = max(20, int(400 * scale * 100 / sockets))
        ours, floor = asyncio.run(_fanout(sockets, publishes))
        results.add(
            Ratio(
                "micro",
                f"hub fan-out, {sockets} subscribers",
                f"hub {ours / 1000:.0f} k deliveries/s",
                f"bare queues {floor / 1000:.0f} k/s",
                ours / floor,
                "of the bare in-process fan-out (1.0 = no overhead)",
            )
        )


class _Loopback:
    """The broker protocol within this process: a publish is delivered to the hub at once,
    so the figure is the hub's own cost (Redis's is measured by the macro benchmarks)."""

    def __init__(self) -> None:
        self._deliveries: dict[str, list[Delivery]] = {}

    async def publish(self, topic: str, data: bytes) -> None:
        for deliver in self._deliveries.get(topic, ()):
            deliver(topic, data)

    async def subscribe(self, topic: str, deliver: Delivery) -> None:
        self._deliveries.setdefault(topic, []).append(deliver)

    async def unsubscribe(self, topic: str, deliver: Delivery) -> None:
        self._deliveries.get(topic, []).remove(deliver)

    def on_reconnect(self, listener: ReconnectListener) -> None:
        pass  # never disconnected


async def _fanout(sockets: int, publishes: int) -> tuple[float, float]:
    """Deliveries per second, subscribers drained by their own tasks as sockets would be."""
    frame = msgspec.json.encode({"type": "MESSAGE_RECEIVED", "seq": 1, "message": MESSAGE})
    hub = Hub(_Loopback(), queue_size=publishes + 1)
    subscribers = [hub.subscriber() for _ in range(sockets)]
    for subscriber in subscribers:
        await hub.join(subscriber, "chat:bench")

    async def drain(queue: asyncio.Queue[str]) -> None:
        for _ in range(publishes):
            await queue.get()

    started = time.perf_counter()
    readers = [asyncio.create_task(drain(s.queue)) for s in subscribers]
    for _ in range(publishes):
        await hub.publish("chat:bench", frame)
        await asyncio.sleep(0)
    await asyncio.gather(*readers)
    ours = sockets * publishes / (time.perf_counter() - started)

    queues: list[asyncio.Queue[str]] = [asyncio.Queue() for _ in range(sockets)]
    started = time.perf_counter()
    readers = [asyncio.create_task(drain(q)) for q in queues]
    for _ in range(publishes):
        text = frame.decode()
        for queue in queues:
            queue.put_nowait(text)
        await asyncio.sleep(0)
    await asyncio.gather(*readers)
    floor = sockets * publishes / (time.perf_counter() - started)
    return ours, floor


ALL = {"structs": structs, "tokens": tokens, "hub": hub}
