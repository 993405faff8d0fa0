"""Hot reads run a fixed number of queries, however many workspaces and members."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.harness import TokenIssuer
from tests.user.support import World, create_workspace, invite, sign_up

Client = AsyncTestClient[Litestar]


async def round_trips(client: Client, path: str, headers: dict[str, str]) -> int:
    database = client.app.state["contexts"]["user"].database
    before = database.calls
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return int(database.calls - before)


async def test_my_workspaces_is_one_query(client: Client, world: World) -> None:
    path = "/api/workspaces/all"
    assert await round_trips(client, path, world.member.headers) == 1
    for n in range(4):
        await create_workspace(client, world.member, f"more {n}")
    assert await round_trips(client, path, world.member.headers) == 1


async def test_members_list_is_two_queries(
    client: Client, world: World, issuer: TokenIssuer
) -> None:
    path = f"/api/workspaces/{world.a}/members"
    assert await round_trips(client, path, world.member.headers) == 2
    for n in range(5):
        extra = await sign_up(client, issuer, f"extra{n}")
        assert (await invite(client, world.owner, world.a, extra)).status_code == 201
    assert await round_trips(client, path, world.member.headers) == 2
    detail = f"/api/workspaces/{world.a}"
    assert await round_trips(client, detail, world.member.headers) == 1
