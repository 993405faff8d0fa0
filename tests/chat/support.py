"""Helpers shared by the chat service tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.user.support import Actor


def token_of(actor: Actor) -> str:
    return actor.headers["Authorization"].removeprefix("Bearer ")


def assert_error(response: Any, status: int, code: str) -> None:
    """The chat service's error envelope: ``{success:false, error:{code,message}, requestId}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    assert body["requestId"] == response.headers["x-request-id"]


async def create_chat(
    client: Any,
    by: Actor,
    workspace: str,
    others: list[Actor],
    *,
    kind: str = "GROUP",
    name: str = "Team room",
) -> dict[str, Any]:
    body = {
        "workspaceId": workspace,
        "chatType": kind,
        "chatName": name,
        "participants": [o.user_id for o in others],
    }
    response = await client.post("/api/chats", json=body, headers=by.headers)
    assert response.status_code in (200, 201), response.text
    found: dict[str, Any] = response.json()
    return found


async def send(client: Any, by: Actor, chat_id: str, content: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        f"/api/chats/messages/{chat_id}", json={"content": content, **extra}, headers=by.headers
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


class Socket:
    """A chat or presence socket that decodes frames, skipping heartbeats unless asked."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.heartbeats: list[dict[str, Any]] = []

    async def send(self, frame: Any) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if frame.get("type") == "heartbeat":
                self.heartbeats.append(frame)
                continue
            return frame

    async def recv_type(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame of ``kind``, skipping others."""
        while True:
            frame = await self.recv(timeout)
            if frame.get("type") == kind:
                return frame

    async def ready(self) -> None:
        """Ping and wait for the pong: the socket is subscribed and reading."""
        await self.send({"type": "ping"})
        await self.recv_type("pong")


@asynccontextmanager
async def open_socket(
    base_ws_url: str, path: str, actor: Actor, query: str = ""
) -> AsyncIterator[Socket]:
    url = f"{base_ws_url}{path}?token={token_of(actor)}{query}"
    async with connect(url, max_size=None, open_timeout=10) as ws:
        yield Socket(ws)
