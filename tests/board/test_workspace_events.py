"""The user service's outbox reaches the board through the relay: removing a member takes
them out of the workspace's projects; deleting a workspace deletes its projects."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from tests.board.support import build_scene, unwrap
from tests.core.realtime.waiting import eventually
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import build_world, member_id_of
from wealist.devstack.servers import free_port

pytestmark = pytest.mark.slow


async def test_workspace_deletion_and_member_removal_reach_the_board(
    service_process: Callable[..., Any], issuer: TokenIssuer, environment: Environment
) -> None:
    board_port = free_port()
    consumers = {name: (await service_process(name)).url for name in ("noti", "video")}
    user_proc = await service_process(
        "user",
        env={
            "WEALIST_OUTBOX_RELAY": "true",
            "WEALIST_SERVICE_URLS": json.dumps(
                {**consumers, "board": f"http://127.0.0.1:{board_port}"}
            ),
        },
    )
    board_proc = await service_process(
        "board", port=board_port, env={"WEALIST_BOARD_USER_SERVICE_URL": user_proc.url}
    )
    async with (
        httpx.AsyncClient(base_url=user_proc.url, timeout=30) as users,
        httpx.AsyncClient(base_url=board_proc.url, timeout=30) as board,
    ):
        world = await build_world(users, issuer)
        scene = await build_scene(board, users, issuer, world)
        member = scene.project_member
        membership = await member_id_of(users, world.owner, world.a, member)
        removed = await users.delete(
            f"/api/workspaces/{world.a}/members/{membership}", headers=world.owner.headers
        )
        assert removed.status_code in (200, 204), removed.text

        async def still_a_project_member() -> bool:
            listed = unwrap(
                await board.get(
                    f"/api/projects/{scene.project}/members", headers=world.owner.headers
                )
            )
            return member.user_id in {m["userId"] for m in listed}

        await eventually(still_a_project_member, equals=False, timeout=20)

        deleted = await users.delete(f"/api/workspaces/{world.a}", headers=world.owner.headers)
        assert deleted.status_code in (200, 204), deleted.text

    async def projects_left() -> int:
        async with await psycopg.AsyncConnection.connect(environment.databases["board"]) as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM projects WHERE workspace_id = %s", (world.a,)
            )
            row = await cur.fetchone()
        return int(row[0]) if row else -1

    await eventually(projects_left, equals=0, timeout=20)
    async with await psycopg.AsyncConnection.connect(environment.databases["board"]) as conn:
        cur = await conn.execute(
            "SELECT frame FROM board_events WHERE project_id = %s ORDER BY seq DESC LIMIT 1",
            (scene.project,),
        )
        row = await cur.fetchone()
    assert row is not None and json.loads(row[0])["type"] == "PROJECT_DELETED"
