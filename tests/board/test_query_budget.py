"""Hot board reads run a fixed number of queries, however many boards, comments,
participants, files or options there are (membership comes from the Redis cache)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.support import Scene, build_scene, unwrap
from tests.plugins.harness import TokenIssuer
from tests.user.support import build_world

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def scene(board: Client, users: httpx.AsyncClient, issuer: TokenIssuer) -> Scene:
    return await build_scene(board, users, issuer, await build_world(users, issuer))


async def round_trips(client: Client, path: str, who: Any) -> int:
    database = client.app.state["contexts"]["board"].database
    before = database.calls
    response = await client.get(path, headers=who.headers)
    assert response.status_code == 200, response.text
    return int(database.calls - before)


async def grow(board: Client, scene: Scene, n: int) -> None:
    """``n`` more boards, each with participants and a comment."""
    owner = scene.project_owner
    for i in range(n):
        made = unwrap(
            await board.post(
                "/api/boards",
                json={
                    "projectId": scene.project,
                    "title": f"more {i}",
                    "participants": [scene.ws_member.user_id, scene.project_member.user_id],
                },
                headers=owner.headers,
            ),
            201,
        )
        unwrap(
            await board.post(
                "/api/comments",
                json={"boardId": made["boardId"], "content": "c"},
                headers=owner.headers,
            ),
            201,
        )


async def test_hot_reads_do_not_grow_with_the_data(board: Client, scene: Scene) -> None:
    paths = {
        f"/api/boards?projectId={scene.project}": 1,
        f"/api/boards/project/{scene.project}": 1,
        f"/api/boards/{scene.board}": 4,
        f"/api/comments?boardId={scene.board}": 3,
        f"/api/projects?workspaceId={scene.world.a}": 2,
        f"/api/projects/workspace/{scene.world.a}": 2,
        f"/api/projects/{scene.project}/init-settings": 3,
        f"/api/projects/{scene.project}/members": 2,
        f"/api/field-options?projectId={scene.project}": 2,
        f"/api/boards/search?projectId={scene.project}&query=more": 2,
        f"/api/boards/{scene.board}/activity": 3,
    }
    who = scene.project_member
    before = {path: await round_trips(board, path, who) for path in paths}
    await grow(board, scene, 6)
    for n in range(3):
        unwrap(
            await board.post(
                "/api/comments",
                json={"boardId": scene.board, "content": f"{n}"},
                headers=who.headers,
            ),
            201,
        )
    after = {path: await round_trips(board, path, who) for path in paths}
    assert before == after == paths
