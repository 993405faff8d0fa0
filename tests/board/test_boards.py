"""Boards: create with validated fields, list in column order, move, delete."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.test_projects import create as create_project
from tests.board.test_projects import unwrap
from tests.user.support import Actor, World, assert_error

Client = AsyncTestClient[Litestar]


async def project_of(board: Client, world: World) -> str:
    """A project of workspace A with the owner and the admin... as its only member: owner."""
    created = unwrap(await create_project(board, world.owner, world.a, "Kanban"), 201)
    return str(created["projectId"])


async def new_board(board: Client, who: Actor, project: str, title: str, **extra: Any) -> Any:
    return await board.post(
        "/api/boards", json={"projectId": project, "title": title, **extra}, headers=who.headers
    )


async def titles(board: Client, who: Actor, project: str, **params: str) -> list[str]:
    listed = unwrap(
        await board.get("/api/boards", params={"projectId": project, **params}, headers=who.headers)
    )
    return [b["title"] for b in listed]


async def move(
    board: Client, who: Actor, project: str, board_id: str, value: str, **where: str
) -> Any:
    return await board.put(
        f"/api/boards/{board_id}/move",
        json={"projectId": project, "groupByFieldName": "stage", "newFieldValue": value, **where},
        headers=who.headers,
    )


async def test_create_and_read(board: Client, world: World) -> None:
    project = await project_of(board, world)
    created = unwrap(
        await new_board(
            board,
            world.owner,
            project,
            "  Write docs ",
            customFields={"stage": "in_progress", "importance": "high"},
            participants=[world.member.user_id, world.member.user_id, world.admin.user_id],
            dueDate="2027-01-01T00:00:00Z",
        ),
        201,
    )
    assert created["title"] == "Write docs"
    assert created["customFields"] == {"stage": "in_progress", "importance": "high"}
    assert created["assigneeId"] == world.owner.user_id  # the author by default
    assert created["participantIds"] == [world.member.user_id, world.admin.user_id]
    assert (created["projectId"], created["workspaceId"], created["attachments"]) == (
        project,
        world.a,
        [],
    )
    # Workspace members read; only project members write.
    seen = unwrap(
        await board.get(f"/api/boards/{created['boardId']}", headers=world.member.headers)
    )
    detail = {k: seen.pop(k) for k in ("participants", "comments")}
    assert seen == created
    assert detail["comments"] == []
    assert [(p["boardId"], p["userId"]) for p in detail["participants"]] == [
        (created["boardId"], world.member.user_id),
        (created["boardId"], world.admin.user_id),
    ]
    assert_error(await new_board(board, world.member, project, "Mine"), 403, "FORBIDDEN")
    for actor in (world.outsider, world.other_admin):
        hidden = await board.get(f"/api/boards/{created['boardId']}", headers=actor.headers)
        assert_error(hidden, 404, "NOT_FOUND")
        listed = await board.get(
            "/api/boards", params={"projectId": project}, headers=actor.headers
        )
        assert_error(listed, 404, "NOT_FOUND")
        assert_error(await new_board(board, actor, project, "Sneak"), 404, "NOT_FOUND")


async def test_fields_and_people_are_checked(board: Client, world: World) -> None:
    project = await project_of(board, world)
    for extra in (
        {"customFields": {"stage": "nonsense"}},
        {"customFields": {"colour": "red"}},
        {"assigneeId": world.other_admin.user_id},
        {"participants": [world.outsider.user_id]},
        {"startDate": "2027-02-01T00:00:00Z", "dueDate": "2027-01-01T00:00:00Z"},
    ):
        response = await new_board(board, world.owner, project, "Bad", **extra)
        assert_error(response, 400, "VALIDATION_ERROR")
    assert_error(await new_board(board, world.owner, project, ""), 400, "VALIDATION_ERROR")
    bad_filter = await board.get(
        "/api/boards",
        params={"projectId": project, "customFields": "[1]"},
        headers=world.owner.headers,
    )
    assert_error(bad_filter, 400, "VALIDATION_ERROR")


async def test_lists_come_in_column_order_then_rank(board: Client, world: World) -> None:
    project = await project_of(board, world)
    ids = {}
    for title, stage in (("r1", "review"), ("p1", "pending"), ("r2", "review"), ("p2", "pending")):
        made = unwrap(
            await new_board(board, world.owner, project, title, customFields={"stage": stage}), 201
        )
        ids[title] = made["boardId"]
    assert await titles(board, world.owner, project) == ["p1", "p2", "r1", "r2"]
    only_review = await titles(board, world.owner, project, customFields='{"stage": "review"}')
    assert only_review == ["r1", "r2"]

    moved = unwrap(
        await move(board, world.owner, project, ids["p2"], "pending", beforeBoardId=ids["p1"])
    )
    assert moved == {
        "boardId": ids["p2"],
        "newFieldValue": "pending",
        "message": "Board moved successfully",
        "rank": moved["rank"],  # additive: where it landed, and the board's new version
        "version": 2,
    }
    assert await titles(board, world.owner, project) == ["p2", "p1", "r1", "r2"]
    unwrap(await move(board, world.owner, project, ids["p1"], "review", afterBoardId=ids["r1"]))
    assert await titles(board, world.owner, project) == ["p2", "r1", "p1", "r2"]
    unwrap(await move(board, world.owner, project, ids["p2"], "approved"))
    assert await titles(board, world.owner, project) == ["r1", "p1", "r2", "p2"]
    stages = unwrap(await board.get(f"/api/boards/project/{project}", headers=world.owner.headers))
    assert [b["customFields"]["stage"] for b in stages] == [
        "review",
        "review",
        "review",
        "approved",
    ]

    for where in (
        {"afterBoardId": ids["p1"]},
        {"beforeBoardId": "6f1c2a4e-9b7d-4c1e-8f2a-3d5b7c9e1f20"},
    ):
        refused = await move(board, world.owner, project, ids["p1"], "review", **where)
        assert_error(refused, 400, "VALIDATION_ERROR")
    wrong_order = await move(
        board,
        world.owner,
        project,
        ids["r2"],
        "review",
        afterBoardId=ids["p1"],
        beforeBoardId=ids["r1"],
    )
    assert_error(wrong_order, 400, "VALIDATION_ERROR")
    unknown_value = await move(board, world.owner, project, ids["r2"], "someday")
    assert_error(unknown_value, 400, "VALIDATION_ERROR")
    assert_error(await move(board, world.member, project, ids["r2"], "pending"), 403, "FORBIDDEN")


async def test_deleting(board: Client, world: World) -> None:
    project = await project_of(board, world)
    made = unwrap(await new_board(board, world.owner, project, "Temp"), 201)
    path = f"/api/boards/{made['boardId']}"
    assert_error(await board.delete(path, headers=world.member.headers), 403, "FORBIDDEN")
    assert_error(await board.delete(path, headers=world.outsider.headers), 404, "NOT_FOUND")
    assert unwrap(await board.delete(path, headers=world.owner.headers)) is None
    assert_error(await board.get(path, headers=world.owner.headers), 404, "NOT_FOUND")
