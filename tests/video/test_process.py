"""``wealist serve video`` as a real process: the reconciliation sweep runs on its own,
webhooks arrive over HTTP, and no secret or token reaches its logs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.plugins.livekit_server import API_SECRET, FakeLiveKit
from tests.user.support import World
from tests.video.conftest import video_env
from tests.video.support import Db, create_room, data_of, grants, joined, room_row, seats

pytestmark = pytest.mark.slow

TURN_SECRET = "process-turn-secret-0123456789abcdef"


async def until(check: Callable[[], Any], what: str) -> None:
    """Poll ``check`` until it is true (fails after 60 s; no timing is asserted)."""
    for _ in range(600):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def test_sweep_webhooks_and_quiet_logs(
    service_process: Callable[..., Any],
    users: httpx.AsyncClient,
    livekit_server: FakeLiveKit,
    world: World,
    db_video: Db,
) -> None:
    env = video_env(
        livekit_server,
        users,
        WEALIST_VIDEO_RECONCILE_INTERVAL_S="0.2",
        WEALIST_VIDEO_RECONCILE_GRACE_S="0",
        WEALIST_VIDEO_TURN_SECRET=TURN_SECRET,
        WEALIST_VIDEO_TURN_URLS="turn:127.0.0.1:3478",
        WEALIST_LOG_LEVEL="info",
    )
    proc = await service_process("video", env=env)
    async with httpx.AsyncClient(base_url=proc.url, timeout=30) as video:
        swept = await create_room(video, world.owner, world.a, name="swept")
        token = (await joined(video, world.member, swept["id"]))["token"]
        assert grants(token)["video"]["room"] == swept["id"]

        # Nobody connected to LiveKit: the sweep ends the member's session on its own.
        async def member_gone() -> bool:
            return (await seats(db_video, swept["id"]))[world.member.user_id] == (False, False)

        await until(member_gone, "the sweep marked the unconnected member left")
        assert livekit_server.methods("ListParticipants")

        finished = await create_room(video, world.owner, world.a, name="finished")
        body, headers = livekit_server.webhook("room_finished", room=finished["id"])
        ack = data_of(
            await video.post("/api/video/webhooks/livekit", content=body, headers=headers)
        )
        assert ack == {"event": "room_finished", "applied": True}
        assert await room_row(db_video, finished["id"]) == (False, True)

        turn = data_of(await video.get("/api/video/turn-credentials", headers=world.member.headers))
    logs = proc.logs()
    assert "http.request_completed" in logs  # the access log was on
    for secret in (API_SECRET, TURN_SECRET, token, turn["password"], headers["Authorization"]):
        assert secret not in logs
    for actor in (world.owner, world.member):
        assert actor.headers["Authorization"].split()[1] not in logs
