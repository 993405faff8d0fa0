"""Notifications a board change causes: exactly one outbox event per person and change,
written in the change's transaction; delivered to a real noti process at least once and
shown exactly once, even when noti was down and the board process died after the commit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.support import Scene, build_scene, unwrap
from tests.core.realtime.waiting import eventually
from tests.noti.support import open_stream
from tests.plugins.harness import ServiceProcess, TokenIssuer
from tests.user.support import build_world

Client = AsyncTestClient[Litestar]
Db = Any


async def outbox(db: Db, after: int) -> list[dict[str, Any]]:
    """The board's ``notification.requested`` events written after outbox row ``after``."""
    cur = await db.execute(
        "SELECT payload::text FROM outbox WHERE id > %s AND event_type = 'notification.requested'"
        " ORDER BY id",
        (after,),
    )
    return [json.loads(row[0]) for row in await cur.fetchall()]


async def mark(db: Db) -> int:
    cur = await db.execute("SELECT coalesce(max(id), 0) FROM outbox")
    row = await cur.fetchone()
    return int(row[0])


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["type"], e["targetUserId"]) for e in events)


@pytest.fixture
async def scene(board: Client, users: httpx.AsyncClient, issuer: TokenIssuer) -> Scene:
    return await build_scene(board, users, issuer, await build_world(users, issuer))


async def test_each_change_requests_one_notification_per_person(
    board: Client, scene: Scene, db_board: Db
) -> None:
    owner, admin, member = scene.project_owner, scene.project_admin, scene.project_member
    ws_member = scene.ws_member
    start = await mark(db_board)
    made = unwrap(
        await board.post(
            "/api/boards",
            json={
                "projectId": scene.project,
                "title": "Ship",
                "assigneeId": admin.user_id,
                "participants": [member.user_id, owner.user_id],
            },
            headers=owner.headers,
        ),
        201,
    )
    created = await outbox(db_board, start)
    assert kinds(created) == sorted(
        [("BOARD_ASSIGNED", admin.user_id), ("BOARD_PARTICIPANT_ADDED", member.user_id)]
    )
    sample = created[0]
    assert (sample["actorId"], sample["workspaceId"], sample["resourceType"]) == (
        owner.user_id,
        scene.world.a,
        "board",
    )
    assert (sample["resourceId"], sample["resourceName"]) == (made["boardId"], "Ship")
    assert sample["metadata"]["projectId"] == scene.project
    assert sample["metadata"]["projectName"] == "Alpha plans"

    # Reassign: the new assignee, the old one, and the followers hear it once each.
    start = await mark(db_board)
    unwrap(
        await board.put(
            f"/api/boards/{made['boardId']}",
            json={"assigneeId": ws_member.user_id, "customFields": {"stage": "review"}},
            headers=owner.headers,
        )
    )
    changed = await outbox(db_board, start)
    assert kinds(changed) == sorted(
        [
            ("BOARD_ASSIGNED", ws_member.user_id),
            ("BOARD_UNASSIGNED", admin.user_id),
            ("BOARD_STATUS_CHANGED", member.user_id),
        ]
    )
    status = next(e for e in changed if e["type"] == "BOARD_STATUS_CHANGED")
    assert (status["metadata"]["oldStage"], status["metadata"]["newStage"]) == ("", "review")
    fields = {c["field"] for c in status["metadata"]["changes"]}
    assert fields == {"assignee", "stage"}

    # A comment mentioning the admin: mentioned once, the others told of the comment.
    start = await mark(db_board)
    comment = unwrap(
        await board.post(
            "/api/comments",
            json={"boardId": made["boardId"], "content": f"<@{admin.user_id}> please check"},
            headers=member.headers,
        ),
        201,
    )
    commented = await outbox(db_board, start)
    assert kinds(commented) == sorted(
        [
            ("COMMENT_MENTIONED", admin.user_id),
            ("BOARD_COMMENT_ADDED", ws_member.user_id),
            ("BOARD_COMMENT_ADDED", owner.user_id),
        ]
    )
    assert {e["metadata"]["commentId"] for e in commented} == {comment["commentId"]}

    # Nothing to tell: a change by the only person involved.
    solo = unwrap(
        await board.post(
            "/api/boards", json={"projectId": scene.project, "title": "Mine"}, headers=owner.headers
        ),
        201,
    )
    start = await mark(db_board)
    unwrap(
        await board.put(
            f"/api/boards/{solo['boardId']}", json={"title": "Still mine"}, headers=owner.headers
        )
    )
    assert await outbox(db_board, start) == []


async def test_mentioning_someone_outside_the_workspace_is_refused(
    board: Client, scene: Scene, db_board: Db
) -> None:
    start = await mark(db_board)
    outsider = scene.world.outsider.user_id
    refused = await board.post(
        "/api/comments",
        json={"boardId": scene.board, "content": "hey", "mentionedUserIds": [outsider]},
        headers=scene.project_owner.headers,
    )
    assert refused.status_code == 400, refused.text
    assert await outbox(db_board, start) == []


@pytest.mark.slow
async def test_an_assignment_is_shown_once_even_across_a_noti_outage_and_a_board_crash(
    service_process: Callable[..., Any],
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    environment: Any,
) -> None:
    """Board commits the assignment while noti is down, then dies before its relay could
    deliver; a new board process delivers it once noti is back: the assignee's stream shows
    exactly one BOARD_ASSIGNED, and its redelivery changes nothing."""
    world = await build_world(users, issuer)
    assignee = world.admin
    noti: ServiceProcess = await service_process("noti")
    urls = json.dumps({"noti": noti.url})
    board_env = {
        "WEALIST_BOARD_USER_SERVICE_URL": str(users.base_url),
        "WEALIST_OUTBOX_RELAY": "true",
        "WEALIST_SERVICE_URLS": urls,
    }
    first: ServiceProcess = await service_process("board", env=board_env)
    async with httpx.AsyncClient(
        base_url=first.url, headers=world.owner.headers, timeout=30
    ) as http:
        project = unwrap(
            await http.post("/api/projects", json={"workspaceId": world.a, "name": "Crash"}), 201
        )["projectId"]
        noti.stop()  # noti is down when the assignment commits
        made = unwrap(
            await http.post(
                "/api/boards",
                json={"projectId": project, "title": "Survive", "assigneeId": assignee.user_id},
            ),
            201,
        )
    first.kill()  # the board process dies with the event still in its outbox
    async with await _connect(environment.databases["board"]) as db:
        cur = await db.execute(
            "SELECT count(*) FROM outbox"
            " WHERE delivered_at IS NULL AND payload->>'resourceId' = %s",
            (made["boardId"],),
        )
        assert (await cur.fetchone()) == (1,)

    noti = await service_process("noti")
    token = assignee.headers["Authorization"].removeprefix("Bearer ")
    async with (
        httpx.AsyncClient(base_url=noti.url, timeout=30) as http,
        open_stream(http, token, query=f"&workspaceId={world.a}") as (response, reader),
    ):
        assert response.status_code == 200
        assert (await reader.next()).event == "connected"
        # Only now does a board process come back to deliver what the dead one committed.
        await service_process(
            "board", env={**board_env, "WEALIST_SERVICE_URLS": json.dumps({"noti": noti.url})}
        )
        async with asyncio.timeout(60):  # pings keep the stream alive: bound the wait
            shown = await reader.next()
        assert shown.event == "notification"
        body = json.loads(shown.data)
        assert (body["type"], body["resourceId"]) == ("BOARD_ASSIGNED", made["boardId"])

        async def listed() -> list[Any]:
            found = await http.get(
                "/api/notifications",
                headers={**assignee.headers, "X-Workspace-Id": world.a},
            )
            assert found.status_code == 200, found.text
            items = found.json()["notifications"]
            return [n for n in items if n["resourceId"] == made["boardId"]]

        assert len(await eventually(listed)) == 1
        async with await _connect(environment.databases["board"]) as db:
            await eventually(lambda: _delivered(db, made["boardId"]))
        with pytest.raises(TimeoutError):  # and nothing else arrives
            async with asyncio.timeout(1):
                await reader.next()
        assert len(await listed()) == 1


async def _connect(url: str) -> Any:
    import psycopg

    return await psycopg.AsyncConnection.connect(url, autocommit=True)


async def _delivered(db: Db, board_id: str) -> bool:
    cur = await db.execute(
        "SELECT delivered_at IS NOT NULL FROM outbox WHERE payload->>'resourceId' = %s",
        (board_id,),
    )
    row = await cur.fetchone()
    return bool(row and row[0])
