"""Every board route crossed with {the project's owner, a member of the workspace outside
the project, an outsider, an admin of another workspace, anonymous}: each cell's status is
asserted, and nobody outside workspace A sees its data. A route without a row fails
``test_every_route_has_a_row``. (Project ADMIN/MEMBER columns join with the project
membership routes.)"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.plugins.authz import Case, Setup, at, check_case, check_routes_covered
from tests.plugins.harness import TokenIssuer
from tests.user.support import World, build_world

Client = AsyncTestClient[Litestar]
ACTORS = ("project_owner", "ws_member", "outsider", "other_admin", "anonymous")
ROLES = {"project_owner": "owner", "ws_member": "member"}

READ = (200, 200, 404, 404, 401)
WRITE = (200, 403, 404, 404, 401)
MOVE = {"groupByFieldName": "stage", "newFieldValue": "review"}


async def a_project_with_a_board(clients: Any, world: World) -> Setup:
    board, _, _ = clients
    project = await board.post(
        "/api/projects",
        json={"workspaceId": world.a, "name": "Alpha plans"},
        headers=world.owner.headers,
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["data"]["projectId"]
    card = await board.post(
        "/api/boards",
        json={"projectId": project_id, "title": "Alpha card", "customFields": {"stage": "pending"}},
        headers=world.owner.headers,
    )
    assert card.status_code == 201, card.text
    return Setup({"project": project_id, "board": card.json()["data"]["boardId"]})


def with_project(
    method: str, route: str, expect: tuple[int, ...], path: str, body: Any = None, **kw: Any
) -> Case:
    return Case(method, route, expect, at(path, body), prepare=a_project_with_a_board, **kw)


CASES = [
    Case(
        "POST",
        "/api/projects",
        (201, 201, 404, 404, 401),
        at("/api/projects", lambda v: {"workspaceId": v["a"], "name": "New one"}),
    ),
    Case("GET", "/api/projects", READ, at("/api/projects?workspaceId={a}")),
    Case("GET", "/api/projects/workspace/{workspaceId}", READ, at("/api/projects/workspace/{a}")),
    Case(
        "GET",
        "/api/projects/workspace/{workspaceId}/default",
        (404, 404, 404, 404, 401),
        at("/api/projects/workspace/{a}/default"),
    ),
    with_project("GET", "/api/projects/{projectId}", READ, "/api/projects/{project}"),
    with_project(
        "PUT",
        "/api/projects/{projectId}",
        WRITE,
        "/api/projects/{project}",
        {"description": "changed"},
    ),
    with_project(
        "DELETE", "/api/projects/{projectId}", WRITE, "/api/projects/{project}", fresh=True
    ),
    with_project(
        "GET", "/api/projects/{projectId}/members", WRITE, "/api/projects/{project}/members"
    ),
    with_project(
        "POST",
        "/api/boards",
        (201, 403, 404, 404, 401),
        "/api/boards",
        lambda v: {"projectId": v["project"], "title": "Another card"},
    ),
    with_project("GET", "/api/boards", READ, "/api/boards?projectId={project}"),
    with_project("GET", "/api/boards/project/{projectId}", READ, "/api/boards/project/{project}"),
    with_project("GET", "/api/boards/{boardId}", READ, "/api/boards/{board}"),
    with_project(
        "PUT",
        "/api/boards/{boardId}/move",
        WRITE,
        "/api/boards/{board}/move",
        lambda v: {"projectId": v["project"], **MOVE},
    ),
    with_project("DELETE", "/api/boards/{boardId}", WRITE, "/api/boards/{board}", fresh=True),
]


async def test_every_route_has_a_row(board: Client) -> None:
    check_routes_covered(board.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_matrix(board: Client, users: Any, issuer: TokenIssuer, case: Case) -> None:
    await check_case(
        board,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(users, issuer),
        clients=(board, users, issuer),
        actor_of=lambda world, name: world.actors()[ROLES.get(name, name)],
    )
