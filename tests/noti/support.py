"""Helpers of the noti tests: producers' requests, and an SSE client that reads events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.plugins.harness import INTERNAL_KEY

KEY = {"x-internal-api-key": INTERNAL_KEY}


def event_body(
    target: str,
    workspace: str,
    *,
    kind: str = "BOARD_ASSIGNED",
    resource_type: str = "board",
    name: str = "Write the release notes",
    **extra: Any,
) -> dict[str, Any]:
    """A contract 7.1 NotificationEvent."""
    return {
        "type": kind,
        "actorId": str(uuid.uuid4()),
        "targetUserId": target,
        "workspaceId": workspace,
        "resourceType": resource_type,
        "resourceId": str(uuid.uuid4()),
        "resourceName": name,
        "metadata": {"projectId": str(uuid.uuid4()), "projectName": "Launch"},
        **extra,
    }


def envelope(
    payload: dict[str, Any], *, event_id: str | None = None, kind: str = "notification.requested"
) -> dict[str, Any]:
    """What an outbox relay posts to ``/api/internal/events/noti``."""
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": kind,
        "occurred_at": "2026-01-05T10:00:00+00:00",
        "payload": payload,
    }


async def create(client: Any, target: str, workspace: str, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/internal/notifications", json=event_body(target, workspace, **fields), headers=KEY
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_error(response: Any, status: int, code: str) -> None:
    """The noti error envelope: ``{success:false, error:{code,message}, requestId}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) - {"details"} == {"success", "error", "requestId"}
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]


# --- SSE --------------------------------------------------------------------------------


@dataclass
class Event:
    event: str
    data: str
    id: str | None
    retry: int | None = None


@dataclass
class SseReader:
    """Parses ``text/event-stream`` as an EventSource does (comments counted as pings)."""

    chunks: AsyncIterator[str]
    buffer: str = ""
    pings: int = 0
    last_id: str | None = None
    pending: list[Event] = field(default_factory=list)

    def _parse_block(self, block: str) -> Event | None:
        name, data, ident, retry, saw_id = "message", [], None, None, False
        for line in block.split("\n"):
            if line.startswith(":"):
                self.pings += 1
                continue
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
            elif key == "id":
                ident, saw_id = value, True
            elif key == "retry":
                retry = int(value)
        if saw_id:
            self.last_id = ident
        if not data:
            return None
        return Event(name, "\n".join(data), ident, retry)

    async def next(self, timeout: float = 10.0) -> Event:
        while not self.pending:
            while "\n\n" not in self.buffer:
                self.buffer += await asyncio.wait_for(anext(self.chunks), timeout)
            block, self.buffer = self.buffer.split("\n\n", 1)
            found = self._parse_block(block)
            if found is not None:
                self.pending.append(found)
        return self.pending.pop(0)

    async def until_ping(self, timeout: float = 10.0) -> None:
        seen = self.pings
        while self.pings == seen:
            while "\n\n" not in self.buffer:
                self.buffer += await asyncio.wait_for(anext(self.chunks), timeout)
            block, self.buffer = self.buffer.split("\n\n", 1)
            found = self._parse_block(block)
            if found is not None:
                self.pending.append(found)


@asynccontextmanager
async def open_stream(
    client: httpx.AsyncClient, token: str, *, last_id: str | None = None, query: str = ""
) -> AsyncIterator[tuple[httpx.Response, SseReader]]:
    headers = {"Last-Event-ID": last_id} if last_id is not None else {}
    url = f"/api/notifications/stream?token={token}{query}"
    async with client.stream("GET", url, headers=headers) as response:
        yield response, SseReader(response.aiter_text())


@dataclass
class Person:
    """A user id with a valid access token (noti needs no user service to know them)."""

    user_id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def at(self, workspace: str) -> dict[str, str]:
        return {**self.auth, "X-Workspace-Id": workspace}


def person(issuer: Any, **claims: Any) -> Person:
    user_id = str(uuid.uuid4())
    return Person(user_id, issuer.token(user_id, **claims))


async def stored(db: Any, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    cur = await db.execute(sql, params)
    return list(await cur.fetchall())


async def on_app_loop(client: Any, fn: Any, *args: Any) -> Any:
    """Run ``fn(*args)`` on the in-process app's own event loop (its pools live there)."""
    return await asyncio.to_thread(client.blocking_portal.call, fn, *args)


def noti_ctx(client: Any) -> Any:
    return client.app.state["contexts"]["noti"]
