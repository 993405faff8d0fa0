"""Every board route crossed with {the project's OWNER, ADMIN and MEMBER, a member of the
workspace outside the project, a signed-in outsider, an admin of another workspace,
anonymous}: each cell's status is asserted, nobody outside workspace A sees its data, and
every refused write leaves what it would change as it was (each write row's ``state``, read
as the project's owner, or the attachments table for uploads no API lists). Comments,
attachments and boards are their author's: rows on ones a plain project member made show
that the author may, and a member who is not the author may not. A route without a row
fails ``test_every_route_has_a_row``. The socket's matrix is in ``test_live.py``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.authz.support import Users, in_process, user_service
from tests.board.support import build_scene, new_member, unwrap, upload
from tests.plugins.authz import (
    Case,
    Setup,
    Stage,
    State,
    api,
    at,
    check_case,
    check_routes_covered,
)
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
AUTHOR = (200, 200, 200, 403, 404, 404, 401)  # a plain member's own (and project admins)
INTERNAL = (401,) * 7
MOVE = {"groupByFieldName": "stage", "newFieldValue": "review"}
OPTION = {"fieldType": "stage", "value": "waiting", "label": "Waiting", "color": "#00AA00"}


async def scene(clients: Any, world: World) -> Setup:
    board, users, issuer, _ = clients
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
    board, users, issuer, _ = clients
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
    board = clients[0]
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


async def scene_by_a_member(clients: Any, world: World) -> Setup:
    """The scene, and the plain project member's own board, comment and file (on the
    owner's board)."""
    setup = await scene(clients, world)
    board, author = clients[0], setup.actors["project_member"]
    card = await board.post(
        "/api/boards",
        json={"projectId": setup.values["project"], "title": "Member card"},
        headers=author.headers,
    )
    said = await board.post(
        "/api/comments",
        json={"boardId": setup.values["board"], "content": "mine"},
        headers=author.headers,
    )
    shot = await upload(board, author, world.a)
    unwrap(
        await board.put(
            f"/api/boards/{setup.values['board']}",
            json={"attachmentIds": [shot["attachmentId"]]},
            headers=author.headers,
        )
    )
    setup.values.update(
        member_board=unwrap(card, 201)["boardId"],
        member_comment=unwrap(said, 201)["commentId"],
        member_attachment=shot["attachmentId"],
    )
    return setup


async def uploads_of_a(stage: Stage) -> Any:
    """Every attachment row of workspace A: uploads no API lists (not yet attached)."""
    cur = await stage.clients[3].execute(
        "SELECT to_jsonb(a)::text FROM attachments a WHERE workspace_id = %s ORDER BY 1",
        (stage.world.a,),
    )
    return [r[0] for r in await cur.fetchall()]


def workspace_deleted(v: dict[str, str]) -> dict[str, Any]:
    """The user service's event deleting workspace A (its projects go with it)."""
    return {
        "id": str(uuid.uuid4()),
        "type": "workspace.deleted",
        "occurred_at": "2030-01-01T00:00:00Z",
        "payload": {"workspaceId": v["a"]},
    }


BY = "project_owner"
PROJECT: State = api("/api/projects/{project}", by=BY)
PROJECTS: State = api("/api/projects?workspaceId={a}", by=BY)
PEOPLE: State = api(
    "/api/projects/{project}/members", "/api/projects/{project}/join-requests", by=BY
)
BOARD: State = api("/api/boards/{board}", by=BY)
BOARDS: State = api("/api/boards?projectId={project}", by=BY)
PARTICIPANTS: State = api("/api/participants/board/{board}", by=BY)
COMMENTS: State = api("/api/comments?boardId={board}", by=BY)
FILES: State = api("/api/boards/{board}/attachments", by=BY)
OPTIONS: State = api("/api/field-options?projectId={project}", by=BY)


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
        lambda v: {"workspaceId": v["a"], "name": f"New one by {v['actor']}"},
        state=PROJECTS,
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
    row(
        "PUT",
        "/api/projects/{projectId}",
        OWNER,
        "/api/projects/{project}",
        lambda v: {"description": f"by {v['actor']}"},
        state=PROJECT,
    ),
    row(
        "DELETE",
        "/api/projects/{projectId}",
        OWNER,
        "/api/projects/{project}",
        fresh=True,
        state=PROJECT,
    ),
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
        fresh=True,
        state=PEOPLE,
    ),
    row(
        "DELETE",
        "/api/projects/{projectId}/members/{memberId}",
        ADMINS,
        "/api/projects/{project}/members/{pmember}",
        fresh=True,
        state=PEOPLE,
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
        state=PEOPLE,
    ),
    row(
        "PUT",
        "/api/join-requests/{joinRequestId}",
        ADMINS,
        "/api/join-requests/{request}",
        {"status": "APPROVED"},
        prepare=scene_with_request,
        fresh=True,
        state=PEOPLE,
    ),
    # boards
    row(
        "POST",
        "/api/boards",
        CREATE,
        "/api/boards",
        lambda v: {"projectId": v["project"], "title": f"Another card by {v['actor']}"},
        state=BOARDS,
    ),
    row("GET", "/api/boards", READ, "/api/boards?projectId={project}"),
    row("GET", "/api/boards/project/{projectId}", READ, "/api/boards/project/{project}"),
    row("GET", "/api/boards/search", READ, "/api/boards/search?workspaceId={a}&query=Alpha"),
    row("GET", "/api/boards/{boardId}", READ, "/api/boards/{board}"),
    row(
        "PUT",
        "/api/boards/{boardId}",
        MEMBERS,
        "/api/boards/{board}",
        lambda v: {"title": f"Renamed by {v['actor']}"},
        state=BOARD,
    ),
    row(
        "PUT",
        "/api/boards/{boardId}/move",
        MEMBERS,
        "/api/boards/{board}/move",
        lambda v: {"projectId": v["project"], **MOVE},
        fresh=True,
        state=BOARDS,
    ),
    row("DELETE", "/api/boards/{boardId}", ADMINS, "/api/boards/{board}", fresh=True, state=BOARD),
    row(
        "DELETE",
        "/api/boards/{boardId}",
        AUTHOR,
        "/api/boards/{member_board}",
        prepare=scene_by_a_member,
        fresh=True,
        state=BOARDS,
        note="a plain member's",
    ),
    row("GET", "/api/boards/{boardId}/attachments", READ, "/api/boards/{board}/attachments"),
    row("GET", "/api/boards/{boardId}/activity", READ, "/api/boards/{board}/activity"),
    row(
        "POST",
        "/api/participants",
        CREATE,
        "/api/participants",
        lambda v: {"boardId": v["board"], "userIds": [v["pmember"]]},
        fresh=True,
        state=PARTICIPANTS,
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
        state=PARTICIPANTS,
    ),
    # comments
    row(
        "POST",
        "/api/comments",
        CREATE,
        "/api/comments",
        lambda v: {"boardId": v["board"], "content": f"me too, {v['actor']}"},
        state=COMMENTS,
    ),
    row("GET", "/api/comments", READ, "/api/comments?boardId={board}"),
    row("GET", "/api/comments/board/{boardId}", READ, "/api/comments/board/{board}"),
    row(
        "PUT",
        "/api/comments/{commentId}",
        ADMINS,
        "/api/comments/{comment}",
        lambda v: {"content": f"edited by {v['actor']}"},
        state=COMMENTS,
    ),
    row(
        "PUT",
        "/api/comments/{commentId}",
        AUTHOR,
        "/api/comments/{member_comment}",
        lambda v: {"content": f"edited by {v['actor']}"},
        prepare=scene_by_a_member,
        state=COMMENTS,
        note="a plain member's",
    ),
    row(
        "DELETE",
        "/api/comments/{commentId}",
        ADMINS,
        "/api/comments/{comment}",
        fresh=True,
        state=COMMENTS,
    ),
    row(
        "DELETE",
        "/api/comments/{commentId}",
        AUTHOR,
        "/api/comments/{member_comment}",
        prepare=scene_by_a_member,
        fresh=True,
        state=COMMENTS,
        note="a plain member's",
    ),
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
        state=uploads_of_a,
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
        fresh=True,
        state=uploads_of_a,
    ),
    row(
        "DELETE",
        "/api/attachments/{attachmentId}",
        ADMINS,
        "/api/attachments/{attachment}",
        prepare=scene_with_upload,
        fresh=True,
        state=FILES,
    ),
    row(
        "DELETE",
        "/api/attachments/{attachmentId}",
        AUTHOR,
        "/api/attachments/{member_attachment}",
        prepare=scene_by_a_member,
        fresh=True,
        state=FILES,
        note="a plain member's",
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
        state=OPTIONS,
    ),
    row(
        "PATCH",
        "/api/field-options/{optionId}",
        ADMINS,
        "/api/field-options/{option}",
        lambda v: {"label": f"Stuck for {v['actor']}"},
        state=OPTIONS,
    ),
    row(
        "DELETE",
        "/api/field-options/{optionId}",
        ADMINS,
        "/api/field-options/{option}",
        fresh=True,
        state=OPTIONS,
    ),
    # the internal event route (the internal key only): a user's token cannot delete A
    row(
        "POST",
        "/api/internal/events/board",
        INTERNAL,
        "/api/internal/events/board",
        workspace_deleted,
        state=PROJECTS,
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


@pytest.fixture(scope="module")
async def board_db(environment: Environment) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """The board database, for rows no API shows (uploads not attached yet)."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["board"], autocommit=True
    ) as conn:
        yield conn


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(
    matrix_board: Client,
    users: httpx.AsyncClient,
    issuer: TokenIssuer,
    board_db: psycopg.AsyncConnection[Any],
    case: Case,
) -> None:
    await check_case(
        matrix_board,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(users, issuer),
        clients=(matrix_board, users, issuer, board_db),
    )
