"""Helpers shared by the video service tests."""

from __future__ import annotations

from typing import Any

import jwt
import psycopg

from tests.plugins.livekit_server import API_KEY, API_SECRET
from tests.user.support import Actor

Db = psycopg.AsyncConnection[Any]


def assert_error(response: Any, status: int, code: str) -> None:
    """The video envelope: ``{success: false, error: {code, message}, requestId}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) - {"details"} == {"success", "error", "requestId"}
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["requestId"] == response.headers["x-request-id"]


def data_of(response: Any, status: int = 200) -> Any:
    """The ``data`` of a ``{success: true, data}`` reply."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "data"}
    assert body["success"] is True
    return body["data"]


async def create_room(client: Any, who: Actor, workspace_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Stand-up", "workspaceId": workspace_id, **fields}
    room: dict[str, Any] = data_of(
        await client.post("/api/video/rooms", json=body, headers=who.headers), 201
    )
    return room


async def join(client: Any, who: Actor, room_id: str) -> Any:
    return await client.post(f"/api/video/rooms/{room_id}/join", json={}, headers=who.headers)


async def joined(client: Any, who: Actor, room_id: str) -> dict[str, Any]:
    found: dict[str, Any] = data_of(await join(client, who, room_id))
    return found


def grants(token: str) -> dict[str, Any]:
    """A join token's claims, verified with the LiveKit API secret."""
    claims: dict[str, Any] = jwt.decode(
        token, API_SECRET, algorithms=["HS256"], issuer=API_KEY, options={"require": ["exp"]}
    )
    return claims


async def room_row(db: Db, room_id: str) -> tuple[Any, ...] | None:
    cur = await db.execute(
        "SELECT is_active, ended_at IS NOT NULL FROM rooms WHERE id = %s", (room_id,)
    )
    return await cur.fetchone()


async def seats(db: Db, room_id: str) -> dict[str, tuple[bool, bool]]:
    """user id -> (in the call, removed) for every participant row of the room."""
    cur = await db.execute(
        "SELECT user_id::text, is_active, removed_at IS NOT NULL FROM room_participants"
        " WHERE room_id = %s",
        (room_id,),
    )
    return {r[0]: (r[1], r[2]) for r in await cur.fetchall()}
