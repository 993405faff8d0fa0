"""Hot video routes run a fixed number of queries, however many rooms and people."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.user.support import World
from tests.video.support import create_room, joined

Client = AsyncTestClient[Litestar]


async def round_trips(client: Client, method: str, path: str, headers: dict[str, str]) -> int:
    database = client.app.state["contexts"]["video"].database
    before = database.calls
    response = await client.request(
        method, path, headers=headers, json={} if method == "POST" else None
    )
    assert response.status_code == 200, response.text
    return int(database.calls - before)


async def fill(client: Client, world: World, rooms: int) -> list[dict[str, Any]]:
    made = [await create_room(client, world.owner, world.a) for _ in range(rooms)]
    for room in made:
        for who in (world.owner, world.admin):
            await joined(client, who, room["id"])
    return made


async def test_join_is_five_queries_and_a_rejoin_four(video: Client, world: World) -> None:
    [room] = await fill(video, world, 1)
    path = f"/api/video/rooms/{room['id']}/join"
    assert await round_trips(video, "POST", path, world.member.headers) == 5
    assert await round_trips(video, "POST", path, world.member.headers) == 4


async def test_reads_do_not_grow_with_rooms_or_people(video: Client, world: World) -> None:
    made = await fill(video, world, 1)
    listing = f"/api/video/rooms/workspace/{world.a}"
    room = f"/api/video/rooms/{made[0]['id']}"
    assert await round_trips(video, "GET", listing, world.member.headers) == 2
    assert await round_trips(video, "GET", room, world.member.headers) == 2
    assert await round_trips(video, "GET", f"{room}/participants", world.member.headers) == 2
    more = await fill(video, world, 4)
    assert await round_trips(video, "GET", listing, world.member.headers) == 2
    for call in more:
        ended = await video.post(f"/api/video/rooms/{call['id']}/end", headers=world.owner.headers)
        assert ended.status_code == 200, ended.text
    history = f"/api/video/history/workspace/{world.a}"
    assert await round_trips(video, "GET", history, world.member.headers) == 3
