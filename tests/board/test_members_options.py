"""Project members and join requests, field options scoped to their project, and the
reminder job that fires once per task and due date however many replicas run it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.board.support import Scene, build_scene, new_member, unwrap
from tests.noti.support import on_app_loop
from tests.plugins.harness import TokenIssuer
from tests.user.support import assert_error, build_world
from wealist.board.actions.jobs import do_remind

Client = AsyncTestClient[Litestar]
Db = Any


@pytest.fixture
async def scene(board: Client, users: httpx.AsyncClient, issuer: TokenIssuer) -> Scene:
    return await build_scene(board, users, issuer, await build_world(users, issuer))


async def test_members_are_listed_with_their_workspace_names(board: Client, scene: Scene) -> None:
    listed = unwrap(
        await board.get(
            f"/api/projects/{scene.project}/members", headers=scene.project_member.headers
        )
    )
    roles = {m["userId"]: m["roleName"] for m in listed}
    assert roles == {
        scene.project_owner.user_id: "OWNER",
        scene.project_admin.user_id: "ADMIN",
        scene.project_member.user_id: "MEMBER",
    }
    owner = next(m for m in listed if m["userId"] == scene.project_owner.user_id)
    assert (owner["userName"], owner["userEmail"]) == ("Owner", scene.project_owner.email)
    assert set(owner) == {
        "memberId",
        "projectId",
        "userId",
        "userEmail",
        "userName",
        "roleName",
        "joinedAt",
    }


async def test_join_requests_are_asked_once_and_decided_once(
    board: Client, scene: Scene, users: httpx.AsyncClient, issuer: TokenIssuer
) -> None:
    joiner = await new_member(users, issuer, scene.world, "joiner")
    asked = unwrap(
        await board.post(
            "/api/join-requests", json={"projectId": scene.project}, headers=joiner.headers
        ),
        201,
    )
    again = await board.post(
        "/api/join-requests", json={"projectId": scene.project}, headers=joiner.headers
    )
    assert_error(again, 409, "PENDING_REQUEST_EXISTS")
    pending = unwrap(
        await board.get(
            f"/api/projects/{scene.project}/join-requests",
            params={"status": "PENDING"},
            headers=scene.project_admin.headers,
        )
    )
    assert [(r["requestId"], r["userName"]) for r in pending] == [(asked["requestId"], "Joiner")]
    bad = await board.put(
        f"/api/join-requests/{asked['requestId']}",
        json={"status": "MAYBE"},
        headers=scene.project_owner.headers,
    )
    assert_error(bad, 400, "VALIDATION_ERROR")
    decided = unwrap(
        await board.put(
            f"/api/join-requests/{asked['requestId']}",
            json={"status": "REJECTED"},
            headers=scene.project_admin.headers,
        )
    )
    assert decided["status"] == "REJECTED"
    twice = await board.put(
        f"/api/join-requests/{asked['requestId']}",
        json={"status": "APPROVED"},
        headers=scene.project_owner.headers,
    )
    assert_error(twice, 400, "BAD_REQUEST")
    member_asks = await board.post(
        "/api/join-requests",
        json={"projectId": scene.project},
        headers=scene.project_member.headers,
    )
    assert_error(member_asks, 409, "ALREADY_MEMBER")


async def test_roles_change_and_members_leave_by_the_rules(board: Client, scene: Scene) -> None:
    owner, admin, member = scene.project_owner, scene.project_admin, scene.project_member
    base = f"/api/projects/{scene.project}/members"
    assert_error(
        await board.delete(f"{base}/{owner.user_id}", headers=admin.headers), 400, "BAD_REQUEST"
    )
    assert_error(
        await board.delete(f"{base}/{admin.user_id}", headers=admin.headers), 400, "BAD_REQUEST"
    )
    assert_error(
        await board.put(
            f"{base}/{owner.user_id}/role", json={"roleName": "MEMBER"}, headers=owner.headers
        ),
        400,
        "BAD_REQUEST",
    )
    # Handing the project over: the new OWNER, and the old one becomes ADMIN.
    unwrap(
        await board.put(
            f"{base}/{member.user_id}/role", json={"roleName": "OWNER"}, headers=owner.headers
        )
    )
    roles = {
        m["userId"]: m["roleName"] for m in unwrap(await board.get(base, headers=owner.headers))
    }
    assert roles[member.user_id] == "OWNER" and roles[owner.user_id] == "ADMIN"
    project = unwrap(await board.get(f"/api/projects/{scene.project}", headers=owner.headers))
    assert project["ownerId"] == member.user_id
    # An ADMIN cannot remove another ADMIN; the OWNER can.
    assert_error(
        await board.delete(f"{base}/{admin.user_id}", headers=owner.headers), 403, "FORBIDDEN"
    )
    unwrap(await board.delete(f"{base}/{admin.user_id}", headers=member.headers))
    assert admin.user_id not in {
        m["userId"] for m in unwrap(await board.get(base, headers=member.headers))
    }


async def test_field_options_belong_to_their_project(board: Client, scene: Scene) -> None:
    owner = scene.project_owner
    other = unwrap(
        await board.post(
            "/api/projects",
            json={"workspaceId": scene.world.a, "name": "Second"},
            headers=owner.headers,
        ),
        201,
    )["projectId"]
    stages = unwrap(
        await board.get(
            "/api/field-options",
            params={"projectId": scene.project, "fieldType": "stage"},
            headers=scene.ws_member.headers,
        )
    )
    assert [o["value"] for o in stages] == [
        "pending",
        "in_progress",
        "review",
        "approved",
        "deleted",
        "blocked",
    ]
    assert {o["projectId"] for o in stages} == {scene.project}
    # The custom option is usable in its project only.
    used = await board.post(
        "/api/boards",
        json={"projectId": scene.project, "title": "x", "customFields": {"stage": "blocked"}},
        headers=owner.headers,
    )
    assert used.status_code == 201, used.text
    elsewhere = await board.post(
        "/api/boards",
        json={"projectId": other, "title": "x", "customFields": {"stage": "blocked"}},
        headers=owner.headers,
    )
    assert_error(elsewhere, 400, "VALIDATION_ERROR")
    # Filtering boards by an option value finds them.
    filtered = unwrap(
        await board.get(
            "/api/boards",
            params={"projectId": scene.project, "customFields": json.dumps({"stage": "blocked"})},
            headers=owner.headers,
        )
    )
    assert [b["title"] for b in filtered] == ["x"]
    # In use: not deleted; defaults never.
    assert_error(
        await board.delete(f"/api/field-options/{scene.option}", headers=owner.headers),
        409,
        "CONFLICT",
    )
    default = stages[0]["optionId"]
    assert_error(
        await board.delete(f"/api/field-options/{default}", headers=owner.headers),
        400,
        "BAD_REQUEST",
    )
    duplicate = await board.post(
        "/api/field-options",
        json={
            "projectId": scene.project,
            "fieldType": "stage",
            "value": "blocked",
            "label": "Again",
            "color": "#000000",
        },
        headers=owner.headers,
    )
    assert_error(duplicate, 409, "ALREADY_EXISTS")
    # Without a projectId: the options of the caller's own projects only.
    mine = unwrap(
        await board.get(
            "/api/field-options", params={"fieldType": "role"}, headers=scene.ws_member.headers
        )
    )
    assert mine == []  # a workspace member outside every project
    theirs = unwrap(
        await board.get("/api/field-options", params={"fieldType": "role"}, headers=owner.headers)
    )
    assert {o["projectId"] for o in theirs} == {scene.project, other}


async def test_init_settings_give_the_kanban_screen_what_it_needs(
    board: Client, scene: Scene
) -> None:
    found = unwrap(
        await board.get(
            f"/api/projects/{scene.project}/init-settings", headers=scene.ws_member.headers
        )
    )
    assert found["project"]["workspaceName"] == "Alpha team"
    assert found["project"]["ownerName"] == "Owner"
    assert [f["fieldId"] for f in found["fields"]] == ["stage", "importance", "role"]
    stage = found["fields"][0]
    assert (stage["fieldType"], stage["isRequired"]) == ("select", True)
    assert [o["optionValue"] for o in stage["options"]][:2] == ["pending", "in_progress"]
    assert set(stage["options"][0]) == {
        "optionId",
        "optionLabel",
        "optionValue",
        "color",
        "displayOrder",
        "fieldId",
    }
    assert [t["typeId"] for t in found["fieldTypes"]] == ["select", "text", "date", "user"]
    assert found["defaultViewId"] is None
    assert found["eventSeq"] >= 1


async def test_reminders_fire_once_per_task_and_due_date(
    board: Client, scene: Scene, db_board: Db
) -> None:
    owner = scene.project_owner
    soon = datetime.now(UTC) + timedelta(hours=3)
    made = unwrap(
        await board.post(
            "/api/boards",
            json={
                "projectId": scene.project,
                "title": "Due",
                "assigneeId": scene.project_member.user_id,
                "participants": [scene.ws_member.user_id],
                "dueDate": soon.isoformat(),
            },
            headers=owner.headers,
        ),
        201,
    )
    ctx = board.app.state["contexts"]["board"]

    async def sent(kind: str) -> list[tuple[str, str]]:
        cur = await db_board.execute(
            "SELECT payload->>'type', payload->>'targetUserId' FROM outbox"
            " WHERE payload->>'resourceId' = %s AND payload->>'type' = %s",
            (made["boardId"], kind),
        )
        return sorted((r[0], r[1]) for r in await cur.fetchall())

    # Four replicas at once, twice: one reminder per person.
    for _ in range(2):
        await asyncio.gather(*(on_app_loop(board, do_remind, ctx) for _ in range(4)))
    expected = sorted(
        [
            ("BOARD_DUE_SOON", scene.project_member.user_id),
            ("BOARD_DUE_SOON", scene.ws_member.user_id),
        ]
    )
    assert await sent("BOARD_DUE_SOON") == expected
    # A new due date re-arms it; once it passes, BOARD_OVERDUE fires once.
    await db_board.execute(
        "UPDATE boards SET due_date = now() - interval '1 minute' WHERE id = %s", (made["boardId"],)
    )
    for _ in range(2):
        await asyncio.gather(*(on_app_loop(board, do_remind, ctx) for _ in range(3)))
    assert len(await sent("BOARD_OVERDUE")) == 2
    assert len(await sent("BOARD_DUE_SOON")) == 2
    # Done tasks are not chased.
    await db_board.execute(
        "UPDATE boards SET due_date = now() - interval '2 minutes',"
        " custom_fields = jsonb_set(custom_fields, '{stage}', '\"approved\"') WHERE id = %s",
        (made["boardId"],),
    )
    await on_app_loop(board, do_remind, ctx)
    assert len(await sent("BOARD_OVERDUE")) == 2
