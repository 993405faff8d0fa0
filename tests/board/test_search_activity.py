"""Task search (any script, any position, permission-filtered, keyset pages), project
search, and a board's activity history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.support import Scene, build_scene, unwrap
from tests.plugins.harness import TokenIssuer
from tests.user.support import assert_error, build_world

Client = AsyncTestClient[Litestar]


@pytest.fixture
async def scene(board: Client, users: httpx.AsyncClient, issuer: TokenIssuer) -> Scene:
    return await build_scene(board, users, issuer, await build_world(users, issuer))


async def card(board: Client, scene: Scene, title: str, content: str = "") -> str:
    made = unwrap(
        await board.post(
            "/api/boards",
            json={"projectId": scene.project, "title": title, "content": content},
            headers=scene.project_owner.headers,
        ),
        201,
    )
    return str(made["boardId"])


async def search(board: Client, who: Any, **params: Any) -> Any:
    return await board.get("/api/boards/search", params=params, headers=who.headers)


async def test_korean_and_other_substrings_are_found(board: Client, scene: Scene) -> None:
    wanted = await card(board, scene, "배포 일정 확인")
    in_text = await card(board, scene, "Release", "다음 주 일정을 정리합니다")
    await card(board, scene, "배포 준비")
    literal = await card(board, scene, "100% done_now")
    found = unwrap(await search(board, scene.ws_member, workspaceId=scene.world.a, query="일정"))
    assert {b["boardId"] for b in found} == {wanted, in_text}
    by_project = unwrap(await search(board, scene.ws_member, projectId=scene.project, query="확인"))
    assert [b["boardId"] for b in by_project] == [wanted]
    # % and _ are taken literally.
    assert [
        b["boardId"]
        for b in unwrap(await search(board, scene.ws_member, projectId=scene.project, query="0% d"))
    ] == [literal]
    assert unwrap(await search(board, scene.ws_member, projectId=scene.project, query="100_")) == []
    assert (
        unwrap(await search(board, scene.ws_member, projectId=scene.project, query="RELEASE"))[0][
            "boardId"
        ]
        == in_text
    )


async def test_search_shows_nothing_outside_the_callers_workspaces(
    board: Client, scene: Scene
) -> None:
    await card(board, scene, "비밀 계획")
    for who in (scene.world.outsider, scene.world.other_admin):
        assert_error(
            await search(board, who, workspaceId=scene.world.a, query="비밀"), 404, "NOT_FOUND"
        )
        assert_error(
            await search(board, who, projectId=scene.project, query="비밀"), 404, "NOT_FOUND"
        )
    # Their own workspace has no such task.
    assert (
        unwrap(
            await search(board, scene.world.other_admin, workspaceId=scene.world.b, query="비밀")
        )
        == []
    )
    assert_error(await search(board, scene.ws_member, query="비밀"), 400, "VALIDATION_ERROR")


async def test_search_pages_by_keyset(board: Client, scene: Scene) -> None:
    made = [await card(board, scene, f"page item {n}") for n in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"projectId": scene.project, "query": "page item", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await search(board, scene.ws_member, **params)
        seen += [b["boardId"] for b in unwrap(response)]
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(made))  # newest change first, each once
    bad = await search(board, scene.ws_member, projectId=scene.project, query="x", cursor="nope")
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_projects_are_searched_by_name_and_description(board: Client, scene: Scene) -> None:
    owner = scene.project_owner
    for name, description in (("모바일 앱", ""), ("Web", "모바일 웹 개편"), ("Other", "")):
        unwrap(
            await board.post(
                "/api/projects",
                json={"workspaceId": scene.world.a, "name": name, "description": description},
                headers=owner.headers,
            ),
            201,
        )
    found = unwrap(
        await board.get(
            "/api/projects/search",
            params={"workspaceId": scene.world.a, "query": "모바일", "limit": 1},
            headers=scene.ws_member.headers,
        )
    )
    assert (found["total"], found["page"], found["limit"]) == (2, 1, 1)
    assert [p["name"] for p in found["projects"]] == ["모바일 앱"]
    second = unwrap(
        await board.get(
            "/api/projects/search",
            params={"workspaceId": scene.world.a, "query": "모바일", "limit": 1, "page": 2},
            headers=scene.ws_member.headers,
        )
    )
    assert [p["name"] for p in second["projects"]] == ["Web"]


async def test_activity_says_who_changed_what_old_to_new(board: Client, scene: Scene) -> None:
    owner, member = scene.project_owner, scene.project_member
    unwrap(
        await board.put(
            f"/api/boards/{scene.board}",
            json={"title": "Renamed", "dueDate": "2027-03-01T09:00:00Z"},
            headers=member.headers,
        )
    )
    unwrap(
        await board.put(
            f"/api/boards/{scene.board}/move",
            json={
                "projectId": scene.project,
                "groupByFieldName": "stage",
                "newFieldValue": "review",
            },
            headers=owner.headers,
        )
    )
    response = await board.get(
        f"/api/boards/{scene.board}/activity", params={"limit": 2}, headers=scene.ws_member.headers
    )
    newest, updated = unwrap(response)
    assert (newest["action"], newest["actorId"]) == ("moved", owner.user_id)
    assert newest["changes"] == [{"field": "stage", "oldValue": "pending", "newValue": "review"}]
    assert (updated["action"], updated["actorId"]) == ("updated", member.user_id)
    assert updated["changes"] == [
        {"field": "title", "oldValue": "Alpha card", "newValue": "Renamed"},
        {"field": "dueDate", "oldValue": None, "newValue": "2027-03-01"},
    ]
    rest = unwrap(
        await board.get(
            f"/api/boards/{scene.board}/activity",
            params={"cursor": response.headers["x-next-cursor"]},
            headers=owner.headers,
        )
    )
    assert [a["action"] for a in rest] == ["created"]


async def test_a_stale_version_is_refused(board: Client, scene: Scene) -> None:
    owner = scene.project_owner
    current = unwrap(await board.get(f"/api/boards/{scene.board}", headers=owner.headers))
    version = current["version"]
    ok = unwrap(
        await board.put(
            f"/api/boards/{scene.board}",
            json={"title": "v2"},
            headers={**owner.headers, "If-Match": str(version)},
        )
    )
    assert ok["version"] == version + 1
    stale = await board.put(
        f"/api/boards/{scene.board}",
        json={"title": "lost update"},
        headers={**owner.headers, "If-Match": f'"{version}"'},
    )
    assert_error(stale, 412, "PRECONDITION_FAILED")
    moved = await board.put(
        f"/api/boards/{scene.board}/move",
        json={"projectId": scene.project, "groupByFieldName": "stage", "newFieldValue": "review"},
        headers={**owner.headers, "If-Match": str(version)},
    )
    assert_error(moved, 412, "PRECONDITION_FAILED")
    after = unwrap(await board.get(f"/api/boards/{scene.board}", headers=owner.headers))
    assert (after["title"], after["version"]) == ("v2", version + 1)
