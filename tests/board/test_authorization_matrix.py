"""Every board route crossed with {the project's OWNER, ADMIN and MEMBER, a member of the
workspace outside the project, a signed-in outsider, an admin of another workspace,
anonymous}: each cell's status is asserted, and nobody outside workspace A sees its data.
A route without a row fails ``test_every_route_has_a_row``. The socket's matrix is in
``test_live.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.authz.support import Users, in_process, user_service
from tests.board.support import build_scene, new_member, unwrap, upload
from tests.plugins.authz import Case, Setup, at, check_case, check_routes_covered
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import World, build_world

Client = AsyncTestClient[Litestar]
ACTORS = (
    "project_owner",
    "project_admin",
    "project_member",
    "ws_member",
    "outsider",
    "other_admin",
    "anonymous",
)

READ = (200, 200, 200, 200, 404, 404, 401)
MEMBERS = (200, 200, 200, 403, 404, 404, 401)
CREATE = (201, 201, 201, 403, 404, 404, 401)
ADMINS = (200, 200, 403, 403, 404, 404, 401)
OWNER = (200, 403, 403, 403, 404, 404, 401)
INTERNAL = (401,) * 7
MOVE = {"groupByFieldName": "stage", "newFieldValue": "review"}
OPTION = {"fieldType": "stage", "value": "waiting", "label": "Waiting", "color": "#00AA00"}


async def scene(clients: Any, world: World) -> Setup:
    board, users, issuer = clients
    found = await build_scene(board, users, issuer, world)
    values = {
        "project": found.project,
        "board": found.board,
        "comment": found.comment,
        "option": found.option,
        "pmember": found.project_member.user_id,
        "ws_member": world.member.user_id,
    }
    return Setup(values, actors=found.actors())


async def scene_with_request(clients: Any, world: World) -> Setup:
    """The scene, and a pending join request of a newcomer to the workspace."""
    setup = await scene(clients, world)
    board, users, issuer = clients
    joiner = await new_member(users, issuer, world, "joiner")
    asked = unwrap(
        await board.post(
            "/api/join-requests",
            json={"projectId": setup.values["project"]},
            headers=joiner.headers,
        ),
        201,
    )
    setup.values["request"] = asked["requestId"]
    return setup


async def scene_with_upload(clients: Any, world: World) -> Setup:
    """The scene, an upload of the owner not attached yet, and one attached to the board."""
    setup = await scene(clients, world)
    board, _, _ = clients
    loose = await upload(board, world.owner, world.a)
    attached = await upload(board, world.owner, world.a)
    unwrap(
        await board.put(
            f"/api/boards/{setup.values['board']}",
            json={"attachmentIds": [attached["attachmentId"]]},
            headers=world.owner.headers,
        )
    )
    setup.values.update(key=loose["fileKey"], attachment=attached["attachmentId"])
    return setup


def row(
    method: str, route: str, expect: tuple[int, ...], path: str, body: Any = None, **kw: Any
) -> Case:
    kw.setdefault("prepare", scene)
    return Case(method, route, expect, at(path, body), **kw)


CASES = [
    # projects
    row(
        "POST",
        "/api/projects",
        (201, 201, 201, 201, 404, 404, 401),
        "/api/projects",
        lambda v: {"workspaceId": v["a"], "name": "New one"},
    ),
    row("GET", "/api/projects", READ, "/api/projects?workspaceId={a}"),
    row("GET", "/api/projects/search", READ, "/api/projects/search?workspaceId={a}&query=Alpha"),
    row("GET", "/api/projects/workspace/{workspaceId}", READ, "/api/projects/workspace/{a}"),
    row(
        "GET",
        "/api/projects/workspace/{workspaceId}/default",
        (404, 404, 404, 404, 404, 404, 401),
        "/api/projects/workspace/{a}/default",
    ),
    row("GET", "/api/projects/{projectId}", READ, "/api/projects/{project}"),
    row("PUT", "/api/projects/{projectId}", OWNER, "/api/projects/{project}", {"description": "x"}),
    row("DELETE", "/api/projects/{projectId}", OWNER, "/api/projects/{project}", fresh=True),
    row(
        "GET",
        "/api/projects/{projectId}/init-settings",
        READ,
        "/api/projects/{project}/init-settings",
    ),
    row("GET", "/api/projects/{projectId}/members", MEMBERS, "/api/projects/{project}/members"),
    row(
        "PUT",
        "/api/projects/{projectId}/members/{memberId}/role",
        OWNER,
        "/api/projects/{project}/members/{pmember}/role",
        {"roleName": "ADMIN"},
    ),
    row(
        "DELETE",
        "/api/projects/{projectId}/members/{memberId}",
        ADMINS,
        "/api/projects/{project}/members/{pmember}",
        fresh=True,
    ),
    row(
        "GET",
        "/api/projects/{projectId}/join-requests",
        ADMINS,
        "/api/projects/{project}/join-requests",
    ),
    row(
        "GET",
        "/api/projects/{projectId}/attachments",
        READ,
        "/api/projects/{project}/attachments",
    ),
    row(
        "GET",
        "/api/projects/{projectId}/online-users",
        READ,
        "/api/projects/{project}/online-users",
    ),
    row(
        "POST",
        "/api/join-requests",
        (409, 409, 409, 201, 404, 404, 401),
        "/api/join-requests",
        lambda v: {"projectId": v["project"]},
    ),
    row(
        "PUT",
        "/api/join-requests/{joinRequestId}",
        ADMINS,
        "/api/join-requests/{request}",
        {"status": "APPROVED"},
        prepare=scene_with_request,
        fresh=True,
    ),
    # boards
    row(
        "POST",
        "/api/boards",
        CREATE,
        "/api/boards",
        lambda v: {"projectId": v["project"], "title": "Another card"},
    ),
    row("GET", "/api/boards", READ, "/api/boards?projectId={project}"),
    row("GET", "/api/boards/project/{projectId}", READ, "/api/boards/project/{project}"),
    row("GET", "/api/boards/search", READ, "/api/boards/search?workspaceId={a}&query=Alpha"),
    row("GET", "/api/boards/{boardId}", READ, "/api/boards/{board}"),
    row("PUT", "/api/boards/{boardId}", MEMBERS, "/api/boards/{board}", {"title": "Renamed"}),
    row(
        "PUT",
        "/api/boards/{boardId}/move",
        MEMBERS,
        "/api/boards/{board}/move",
        lambda v: {"projectId": v["project"], **MOVE},
    ),
    row("DELETE", "/api/boards/{boardId}", ADMINS, "/api/boards/{board}", fresh=True),
    row("GET", "/api/boards/{boardId}/attachments", READ, "/api/boards/{board}/attachments"),
    row("GET", "/api/boards/{boardId}/activity", READ, "/api/boards/{board}/activity"),
    row(
        "POST",
        "/api/participants",
        CREATE,
        "/api/participants",
        lambda v: {"boardId": v["board"], "userIds": [v["pmember"]]},
    ),
    row(
        "GET",
        "/api/participants/board/{boardId}",
        READ,
        "/api/participants/board/{board}",
    ),
    row(
        "DELETE",
        "/api/participants/board/{boardId}/user/{userId}",
        MEMBERS,
        "/api/participants/board/{board}/user/{ws_member}",
        fresh=True,
    ),
    # comments
    row(
        "POST",
        "/api/comments",
        CREATE,
        "/api/comments",
        lambda v: {"boardId": v["board"], "content": "me too"},
    ),
    row("GET", "/api/comments", READ, "/api/comments?boardId={board}"),
    row("GET", "/api/comments/board/{boardId}", READ, "/api/comments/board/{board}"),
    row("PUT", "/api/comments/{commentId}", ADMINS, "/api/comments/{comment}", {"content": "ed"}),
    row("DELETE", "/api/comments/{commentId}", ADMINS, "/api/comments/{comment}", fresh=True),
    row(
        "GET",
        "/api/comments/{commentId}/attachments",
        READ,
        "/api/comments/{comment}/attachments",
    ),
    # attachments
    row(
        "POST",
        "/api/attachments/presigned-url",
        (200, 200, 200, 200, 404, 404, 401),
        "/api/attachments/presigned-url",
        lambda v: {
            "entityType": "BOARD",
            "workspaceId": v["a"],
            "fileName": "a.png",
            "fileSize": 10,
            "contentType": "image/png",
        },
    ),
    row(
        "POST",
        "/api/attachments",
        (201, 404, 404, 404, 404, 404, 401),
        "/api/attachments",
        lambda v: {
            "entityType": "BOARD",
            "fileKey": v["key"],
            "fileName": "shot.png",
            "fileSize": 128,
            "contentType": "image/png",
        },
        prepare=scene_with_upload,
    ),
    row(
        "DELETE",
        "/api/attachments/{attachmentId}",
        ADMINS,
        "/api/attachments/{attachment}",
        prepare=scene_with_upload,
        fresh=True,
    ),
    row(
        "GET",
        "/api/attachments/{attachmentId}/download",
        (302, 302, 302, 302, 404, 404, 401),
        "/api/attachments/{attachment}/download",
        prepare=scene_with_upload,
    ),
    # field options
    row("GET", "/api/field-options", READ, "/api/field-options?projectId={project}"),
    row(
        "POST",
        "/api/field-options",
        (201, 201, 403, 403, 404, 404, 401),
        "/api/field-options",
        lambda v: {"projectId": v["project"], **OPTION},
        fresh=True,
    ),
    row(
        "PATCH",
        "/api/field-options/{optionId}",
        ADMINS,
        "/api/field-options/{option}",
        {"label": "Stuck"},
    ),
    row(
        "DELETE", "/api/field-options/{optionId}", ADMINS, "/api/field-options/{option}", fresh=True
    ),
    # the internal event route (the internal key only)
    row(
        "POST",
        "/api/internal/events/board",
        INTERNAL,
        "/api/internal/events/board",
        {"id": "4f0e3c0e-0000-4000-8000-000000000000", "type": "x", "occurred_at": "now"},
    ),
]


@pytest.fixture(scope="module")
async def users(environment: Environment, tmp_path_factory: pytest.TempPathFactory) -> Users:
    async with user_service(environment, tmp_path_factory) as client:
        yield client


@pytest.fixture(scope="module")
async def matrix_board(
    environment: Environment, users: httpx.AsyncClient, s3_server: Any
) -> AsyncIterator[Client]:
    async with in_process(
        environment, "board", user_service_url=str(users.base_url), **s3_server.settings()
    ) as opened:
        yield opened


async def test_every_route_has_a_row(matrix_board: Client) -> None:
    check_routes_covered(matrix_board.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_matrix(
    matrix_board: Client, users: httpx.AsyncClient, issuer: TokenIssuer, case: Case
) -> None:
    await check_case(
        matrix_board,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(users, issuer),
        clients=(matrix_board, users, issuer),
    )
