"""Projects: create in one's workspace, list, read, change and delete by the owner."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.user.support import Actor, World, assert_error

Client = AsyncTestClient[Litestar]
PROJECT_KEYS = {
    "projectId",
    "workspaceId",
    "ownerId",
    "name",
    "description",
    "isPublic",
    "attachments",
    "createdAt",
    "updatedAt",
}


def unwrap(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"data", "requestId"}
    assert body["requestId"] == response.headers["x-request-id"]
    return body["data"]


async def create(
    board: Client, who: Actor, workspace: str, name: str = "Roadmap", **extra: Any
) -> Any:
    return await board.post(
        "/api/projects", json={"workspaceId": workspace, "name": name, **extra}, headers=who.headers
    )


async def test_a_member_creates_a_project(board: Client, world: World, db_board: Any) -> None:
    created = unwrap(
        await create(
            board,
            world.member,
            world.a,
            "  Launch  ",
            description="ship it",
            startDate="2026-12-01T00:00:00Z",
            dueDate="2026-12-24T00:00:00Z",
        ),
        201,
    )
    assert set(created) == PROJECT_KEYS | {"startDate", "dueDate"}
    assert (created["name"], created["ownerId"], created["workspaceId"]) == (
        "Launch",
        world.member.user_id,
        world.a,
    )
    assert created["attachments"] == []
    cur = await db_board.execute(
        "SELECT field_type, count(*) FROM field_options WHERE project_id = %s"
        " GROUP BY field_type ORDER BY field_type",
        (created["projectId"],),
    )
    assert await cur.fetchall() == [("importance", 4), ("role", 4), ("stage", 5)]
    members = unwrap(
        await board.get(
            f"/api/projects/{created['projectId']}/members", headers=world.member.headers
        )
    )
    assert [(m["userId"], m["roleName"]) for m in members] == [(world.member.user_id, "OWNER")]


async def test_creation_is_for_workspace_members_only(board: Client, world: World) -> None:
    for actor in (world.outsider, world.other_admin):
        assert_error(await create(board, actor, world.a), 404, "NOT_FOUND")
    assert_error(await create(board, world.owner, world.a, "x"), 400, "VALIDATION_ERROR")
    late = await create(
        board,
        world.owner,
        world.a,
        startDate="2027-01-02T00:00:00Z",
        dueDate="2027-01-01T00:00:00Z",
    )
    assert_error(late, 400, "VALIDATION_ERROR")
    anonymous = await board.post("/api/projects", json={"workspaceId": world.a, "name": "Nope"})
    assert_error(anonymous, 401, "UNAUTHORIZED")


async def test_listing_and_reading(board: Client, world: World) -> None:
    first = unwrap(await create(board, world.owner, world.a, "First"), 201)
    second = unwrap(await create(board, world.admin, world.a, "Second"), 201)
    listed = unwrap(
        await board.get(
            "/api/projects", params={"workspaceId": world.a}, headers=world.member.headers
        )
    )
    assert [p["projectId"] for p in listed["projects"]] == [first["projectId"], second["projectId"]]
    assert (listed["total"], listed["page"], listed["limit"]) == (2, 1, 2)
    raw = unwrap(
        await board.get(f"/api/projects/workspace/{world.a}", headers=world.member.headers)
    )
    assert [p["name"] for p in raw] == ["First", "Second"]
    seen = unwrap(
        await board.get(f"/api/projects/{first['projectId']}", headers=world.member.headers)
    )
    assert seen["name"] == "First"
    no_default = await board.get(
        f"/api/projects/workspace/{world.a}/default", headers=world.member.headers
    )
    assert_error(no_default, 404, "NOT_FOUND")
    # A workspace member outside the project may read it, but not list its members.
    refused = await board.get(
        f"/api/projects/{first['projectId']}/members", headers=world.member.headers
    )
    assert_error(refused, 403, "FORBIDDEN")
    for actor in (world.outsider, world.other_admin):
        for path in (
            f"/api/projects/{first['projectId']}",
            f"/api/projects/{first['projectId']}/members",
            f"/api/projects/workspace/{world.a}",
        ):
            response = await board.get(path, headers=actor.headers)
            assert_error(response, 404, "NOT_FOUND")
            assert world.a not in response.text
        listed_b = await board.get(
            "/api/projects", params={"workspaceId": world.a}, headers=actor.headers
        )
        assert_error(listed_b, 404, "NOT_FOUND")
    bad = await board.get("/api/projects/not-a-uuid", headers=world.owner.headers)
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_only_the_owner_changes_or_deletes(board: Client, world: World) -> None:
    project = unwrap(
        await create(board, world.owner, world.a, "Mine", dueDate="2027-01-01T00:00:00Z"), 201
    )
    path = f"/api/projects/{project['projectId']}"
    for actor in (world.admin, world.member):
        assert_error(
            await board.put(path, json={"name": "Theirs"}, headers=actor.headers), 403, "FORBIDDEN"
        )
        assert_error(await board.delete(path, headers=actor.headers), 403, "FORBIDDEN")
    for actor in (world.outsider, world.other_admin):
        assert_error(
            await board.put(path, json={"name": "Theirs"}, headers=actor.headers), 404, "NOT_FOUND"
        )
        assert_error(await board.delete(path, headers=actor.headers), 404, "NOT_FOUND")
    changed = unwrap(
        await board.put(
            path,
            json={"name": "Ours", "ownerId": world.member.user_id},
            headers=world.owner.headers,
        )
    )
    assert (changed["name"], changed["ownerId"], changed["dueDate"]) == (
        "Ours",
        world.owner.user_id,
        "2027-01-01T00:00:00Z",
    )
    too_late = await board.put(
        path, json={"startDate": "2027-02-01T00:00:00Z"}, headers=world.owner.headers
    )
    assert_error(too_late, 400, "VALIDATION_ERROR")
    cleared = unwrap(await board.put(path, json={"dueDate": None}, headers=world.owner.headers))
    assert "dueDate" not in cleared
    gone = unwrap(await board.delete(path, headers=world.owner.headers))
    assert gone == {"message": "project deleted"}
    assert_error(await board.get(path, headers=world.owner.headers), 404, "NOT_FOUND")


async def test_a_removed_member_loses_the_workspace_projects_at_once(
    board: Client, users: Any, world: World
) -> None:
    project = unwrap(await create(board, world.owner, world.a, "Secret plans"), 201)
    path = f"/api/projects/{project['projectId']}"
    assert (await board.get(path, headers=world.member.headers)).status_code == 200
    removed = await users.delete(
        f"/api/workspaces/{world.a}/members/{world.member.user_id}", headers=world.owner.headers
    )
    assert removed.status_code == 200
    assert_error(await board.get(path, headers=world.member.headers), 404, "NOT_FOUND")
