"""The original's video metrics, counted after commit (a refused change counts nothing)."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.plugins.livekit_server import FakeLiveKit
from tests.user.support import World
from tests.video.support import create_room, joined

Client = AsyncTestClient[Litestar]


async def samples(client: Client) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("video_service_")
        and not sample.labels.get("le")
        and "http" not in sample.name
        and "db_" not in sample.name
    }


async def test_rooms_sessions_and_call_lengths_are_counted(
    video: Client, world: World, livekit_server: FakeLiveKit
) -> None:
    assert await samples(video) == {
        "video_service_rooms_created_total": 0.0,
        "video_service_rooms_ended_total": 0.0,
        "video_service_participants_joined_total": 0.0,
        "video_service_participants_left_total": 0.0,
        "video_service_call_duration_seconds_count": 0.0,
        "video_service_call_duration_seconds_sum": 0.0,
    }
    room = await create_room(video, world.owner, world.a)
    await create_room(video, world.owner, world.a)
    livekit_server.down = True
    refused = await video.post(
        "/api/video/rooms", json={"name": "x", "workspaceId": world.a}, headers=world.owner.headers
    )
    assert refused.status_code == 503
    livekit_server.down = False
    for who in (world.member, world.admin, world.member):  # the second join of a seat: no count
        await joined(video, who, room["id"])
    left = await video.post(f"/api/video/rooms/{room['id']}/leave", headers=world.member.headers)
    assert left.status_code == 200, left.text
    ended = await video.post(f"/api/video/rooms/{room['id']}/end", headers=world.owner.headers)
    assert ended.status_code == 200, ended.text

    found = await samples(video)
    assert found["video_service_rooms_created_total"] == 2.0
    assert found["video_service_participants_joined_total"] == 2.0
    assert found["video_service_participants_left_total"] == 2.0  # one left, one closed by end
    assert found["video_service_rooms_ended_total"] == 1.0
    assert found["video_service_call_duration_seconds_count"] == 1.0
