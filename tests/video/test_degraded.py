"""The video service when what it leans on is missing: no LiveKit configured, the user
service unreachable for display names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.livekit_server import FakeLiveKit, livekit_settings
from tests.user.support import World
from tests.video.support import Db, assert_error, create_room, data_of, grants, join

Client = AsyncTestClient[Litestar]


async def test_without_livekit_calls_are_refused_with_a_code(
    app_client: Callable[..., Any],
    users: httpx.AsyncClient,
    livekit_server: FakeLiveKit,
    world: World,
    db_video: Db,
) -> None:
    async with app_client("video", user_service_url=str(users.base_url)) as video:
        body = {"name": "No server", "workspaceId": world.a}
        response = await video.post("/api/video/rooms", json=body, headers=world.owner.headers)
        assert_error(response, 503, "LIVEKIT_NOT_CONFIGURED")
        hook_body, headers = livekit_server.webhook("room_finished", room=world.a)
        response = await video.post(
            "/api/video/webhooks/livekit", content=hook_body, headers=headers
        )
        assert_error(response, 503, "LIVEKIT_NOT_CONFIGURED")
        # Reads still work.
        listed = await video.get(
            f"/api/video/rooms/workspace/{world.a}", headers=world.owner.headers
        )
        assert data_of(listed) == []


async def test_join_falls_back_to_the_id_when_profiles_are_unreachable(
    app_client: Callable[..., Any],
    users: httpx.AsyncClient,
    livekit_server: FakeLiveKit,
    world: World,
) -> None:
    async with app_client(
        "video", **livekit_settings(livekit_server, user_service_url=str(users.base_url))
    ) as video:
        room = await create_room(video, world.owner, world.a)
    # The user service wrote every membership to Redis when the world was built, so a
    # video app that cannot reach it still checks membership, but reads no profile.
    settings = livekit_settings(livekit_server, user_service_url="http://127.0.0.1:9")
    async with app_client("video", **settings) as video:
        token = data_of(await join(video, world.member, room["id"]))["token"]
    claims = grants(token)
    assert claims["name"] == world.member.user_id[:8]
    assert claims["sub"] == world.member.user_id
