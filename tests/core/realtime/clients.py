"""Helpers shared by the real-time tests: the probe routes, a JSON WebSocket client."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection

from tests.plugins.harness import ServiceProcess

ROUTES = "tests.core.realtime.probe_routes:ROUTES"


def room() -> str:
    """A fresh room name: tests share Redis (and sometimes a process)."""
    return uuid.uuid4().hex[:10]


async def stats(proc: ServiceProcess) -> dict[str, Any]:
    """``GET /probe/rt/stats``: open sessions, their close codes, the hub's socket count."""
    async with httpx.AsyncClient(base_url=proc.url) as http:
        response = await http.get("/probe/rt/stats")
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found


def is_heartbeat(frame: Any) -> bool:
    return isinstance(frame, dict) and frame.get("type") == "heartbeat"


class Client:
    """A ``websockets`` client that decodes JSON frames and skips heartbeats."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, *, heartbeats: bool = False, timeout: float = 10.0) -> Any:
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if heartbeats or not is_heartbeat(frame):
                return frame

    async def ready(self) -> None:
        """Ping and wait for the pong: the session has joined its topics and reads frames."""
        await self.send({"type": "ping"})
        frame = await self.recv()
        assert frame == {"type": "pong"}, frame
