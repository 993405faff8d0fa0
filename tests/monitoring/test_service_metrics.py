"""The metrics the alert rules need besides HTTP: WebSocket connections (opened, open,
closed by code) counted by the kernel's middleware, and the outbox backlog measured by
the relay, as Prometheus reads them from /metrics."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import psycopg
import pytest
import websockets

from tests.plugins.harness import TokenIssuer
from wealist.contracts.events import EventEnvelope
from wealist.core.context import OUTBOX_MIGRATIONS
from wealist.core.db import Database
from wealist.core.db.migrate import discover, migrate
from wealist.core.metrics import Metrics
from wealist.core.outbox import OutboxRelay, enqueue

pytestmark = pytest.mark.slow


def sample(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (re.escape("{" + labels + "}") if labels else "") + r" (\S+)"
    found = re.search(rf"^{pattern}$", text, flags=re.MULTILINE)
    assert found is not None, f"{name}{{{labels}}} not in /metrics"
    return float(found.group(1))


async def test_websocket_connections_are_counted_by_close_code(
    service_process: Callable[..., Any], issuer: TokenIssuer
) -> None:
    chat = await service_process("chat")
    url = f"{chat.ws_url}/api/chats/ws/presence?token={issuer.token(str(uuid.uuid4()))}"
    async with httpx.AsyncClient(base_url=chat.url) as client:
        before = (await client.get("/metrics")).text
        assert "chat_service_websocket_connections_active" not in before  # none accepted yet
        first = await websockets.connect(url)
        second = await websockets.connect(url)
        await second.send(json.dumps({"type": "ping"}))
        await asyncio.wait_for(second.recv(), 10)
        text = (await client.get("/metrics")).text
        assert sample(text, "chat_service_websocket_connections_opened_total") == 2
        assert sample(text, "chat_service_websocket_connections_active") == 2
        await first.close(code=1000)
        await second.close(code=1001)
        for _ in range(100):  # the server sees the close frames shortly after
            text = (await client.get("/metrics")).text
            if "chat_service_websocket_connections_closed_total" in text and (
                sample(text, "chat_service_websocket_connections_active") == 0
            ):
                break
            await asyncio.sleep(0.05)
        assert sample(text, "chat_service_websocket_connections_active") == 0
        assert sample(text, "chat_service_websocket_connections_closed_total", 'code="1000"') == 1
        assert sample(text, "chat_service_websocket_connections_closed_total", 'code="1001"') == 1
        # a refused handshake was never a connection
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await websockets.connect(f"{chat.ws_url}/api/chats/ws/presence?token=forged")
        after = (await client.get("/metrics")).text
        assert sample(after, "chat_service_websocket_connections_opened_total") == 2


async def test_the_outbox_backlog_is_exported_while_a_consumer_is_down(
    fresh_database: Callable[[str], Awaitable[str]],
) -> None:
    url = await fresh_database("outbox")
    await migrate(url, discover(*OUTBOX_MIGRATIONS))
    db = Database("video_db", url, min_size=1, max_size=2)
    await db.open(wait=True)
    metrics = Metrics()
    metrics.add_pool("video", db.stats)
    try:
        assert "video_service_outbox_pending" not in metrics.render().decode()  # no relay yet
        async with db.transaction() as tx:
            await enqueue(tx, "test.backlog", {"n": 1})
            await enqueue(tx, "test.backlog", {"n": 2})
        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as raw:
            await raw.execute(
                "UPDATE outbox SET created_at = now() - interval '5 minutes'"
                " WHERE delivered_at IS NULL"
            )

        async def consumer_down(event: EventEnvelope) -> None:
            raise ConnectionError("noti is down")

        relay = OutboxRelay(db, consumer_down, poll_s=0.1)
        async with relay.running():
            for _ in range(200):
                if db.outbox_backlog is not None:
                    break
                await asyncio.sleep(0.05)
        text = metrics.render().decode()
        assert sample(text, "video_service_outbox_pending") == 2
        assert 300 <= sample(text, "video_service_outbox_oldest_pending_age_seconds") < 400

        async def consumer_up(event: EventEnvelope) -> None:
            return None

        async with await psycopg.AsyncConnection.connect(db.url, autocommit=True) as raw:
            await raw.execute("UPDATE outbox SET next_attempt_at = now()")
        delivered = OutboxRelay(db, consumer_up)
        await delivered.run_once()
        assert await delivered.measure_backlog() == (0, 0)
        text = metrics.render().decode()
        assert sample(text, "video_service_outbox_pending") == 0
        assert sample(text, "video_service_outbox_oldest_pending_age_seconds") == 0
    finally:
        await db.close()
