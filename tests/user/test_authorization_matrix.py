"""Every user-service route crossed with {owner, admin, member, outsider, admin of another
workspace, anonymous}: each cell's status is asserted, and nobody outside workspace A sees
its data.

Policy: a caller who is not a member of a workspace gets 404 for it (as if it did not
exist); a member whose role does not allow the action gets 403; internal routes answer
401 to every token. Every refused write leaves what it would change as it was (each write
row's ``state``: read through the API as the owner, or the service's rows of the world
where no API shows them, such as someone else's profile or an unconfirmed upload). A
route the service serves without a row here fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.authz.support import in_process
from tests.plugins.authz import (
    Case,
    Setup,
    Stage,
    State,
    api,
    at,
    check_case,
    check_routes_covered,
    stores_nothing,
)
from tests.plugins.harness import Environment, TokenIssuer
from tests.user.support import Db, World, build_world, new_email, sign_up

Client = AsyncTestClient[Litestar]
ACTORS = ("owner", "admin", "member", "outsider", "other_admin", "anonymous")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


async def a_guest(clients: Any, world: World) -> Setup:
    client, issuer, _ = clients
    guest = await sign_up(client, issuer, "guest")
    return Setup({"email": guest.email, "guest": guest.user_id})


async def an_unused_email(clients: Any, world: World) -> Setup:
    """An address nobody has signed up with (yet)."""
    return Setup({"email": new_email("nobody")})


async def a_deleted_user(clients: Any, world: World) -> Setup:
    """A user who deleted their account (the internal restore brings it back)."""
    client, issuer, _ = clients
    gone = await sign_up(client, issuer, "gone")
    deleted = await client.delete("/api/users/me", headers=gone.headers)
    assert deleted.status_code == 200, deleted.text
    return Setup({"email": gone.email, "gone": gone.user_id})


async def a_pending_request(clients: Any, world: World) -> Setup:
    client, issuer, _ = clients
    joiner = await sign_up(client, issuer, "joiner")
    asked = await client.post(
        "/api/workspaces/join-requests", json={"workspaceId": world.a}, headers=joiner.headers
    )
    assert asked.status_code == 201, asked.text
    return Setup({"request": asked.json()["joinRequestId"], "joiner": joiner.user_id})


async def member_ids(clients: Any, world: World) -> Setup:
    client = clients[0]
    listed = await client.get(f"/api/workspaces/{world.a}/members", headers=world.owner.headers)
    by_user = {m["userId"]: m["workspaceMemberId"] for m in listed.json()}
    return Setup({"member": by_user[world.member.user_id]})


async def an_uploaded_image(clients: Any, world: World) -> Setup:
    client = clients[0]
    presigned = await client.post(
        "/api/profiles/me/image/presigned-url",
        json={"fileName": "me.png", "contentType": "image/png", "fileSize": len(PNG)},
        headers=world.owner.headers,
    )
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    async with httpx.AsyncClient() as http:
        put = await http.put(body["uploadUrl"], content=PNG, headers={"Content-Type": "image/png"})
    assert put.status_code == 200, put.text
    return Setup({"key": body["fileKey"], "attachment": body["attachmentId"]})


WORLD_ROWS = {
    "users": "SELECT to_jsonb(t)::text FROM users t WHERE id = ANY(%(people)s)"
    " OR lower(email) = lower(%(email)s)",
    "workspaces": "SELECT to_jsonb(t)::text FROM workspaces t WHERE owner_id = ANY(%(people)s)",
    "workspace_members": "SELECT to_jsonb(t)::text FROM workspace_members t"
    " WHERE user_id = ANY(%(people)s) OR workspace_id = %(a)s",
    "workspace_join_requests": "SELECT to_jsonb(t)::text FROM workspace_join_requests t"
    " WHERE user_id = ANY(%(people)s) OR workspace_id = %(a)s",
    "user_profiles": "SELECT to_jsonb(t)::text FROM user_profiles t"
    " WHERE user_id = ANY(%(people)s) OR workspace_id = %(a)s",
    "attachments": "SELECT to_jsonb(t)::text FROM attachments t"
    " WHERE uploaded_by = ANY(%(people)s)",
}


async def rows_of_the_world(stage: Stage) -> Any:
    """The service's rows of the world's people (and of the setup's guest), their
    workspaces, and workspace A: for what no API shows (others' profiles and defaults,
    unconfirmed uploads, users by email)."""
    world, values = stage.world, stage.setup.values
    people = [a.user_id for a in world.actors().values() if a.user_id]
    people += [values[k] for k in ("guest", "joiner", "gone") if k in values]
    params = {"people": people, "a": world.a, "email": values.get("email", "")}
    db: Db = stage.clients[2]
    found = {}
    for table, query in WORLD_ROWS.items():
        cur = await db.execute(query + " ORDER BY 1", params)
        found[table] = [r[0] for r in await cur.fetchall()]
    return found


WORKSPACE: State = api("/api/workspaces/{a}", "/api/workspaces/{a}/settings")
PEOPLE: State = api(
    "/api/workspaces/{a}/members",
    "/api/workspaces/{a}/joinRequests",
    "/api/workspaces/{a}/pendingMembers",
)
INTERNAL = (401,) * 6
SIGNED_IN = (200, 200, 200, 200, 200, 401)
READ_A = (200, 200, 200, 404, 404, 401)
MANAGE_A = (200, 200, 403, 404, 404, 401)
WS = "/api/workspaces/{workspaceId}"

CASES = [
    Case(
        "POST",
        "/api/internal/oauth/login",
        INTERNAL,
        at(
            "/api/internal/oauth/login",
            lambda v: {"email": v["email"], "name": "", "provider": "google"},
        ),
        prepare=an_unused_email,
        state=rows_of_the_world,
    ),
    Case(
        "GET",
        "/api/internal/users/{userId}/exists",
        INTERNAL,
        at("/api/internal/users/{owner}/exists"),
    ),
    Case(
        "GET",
        "/api/internal/workspaces/{workspaceId}/members/{userId}",
        INTERNAL,
        at("/api/internal/workspaces/{a}/members/{owner}"),
    ),
    Case(
        "POST",
        "/api/internal/workspaces/{workspaceId}/directory",
        INTERNAL,
        at("/api/internal/workspaces/{a}/directory", lambda v: {"userIds": [v["owner"]]}),
        state=stores_nothing("a directory lookup reads names, it writes nothing"),
    ),
    Case(
        "POST",
        "/api/users",
        INTERNAL,
        at("/api/users", lambda v: {"email": v["email"]}),
        prepare=an_unused_email,
        state=rows_of_the_world,
    ),
    Case(
        "PUT",
        "/api/users/{userId}/restore",
        INTERNAL,
        at("/api/users/{gone}/restore"),
        prepare=a_deleted_user,
        state=rows_of_the_world,
    ),
    Case("GET", "/api/users/me", SIGNED_IN, at("/api/users/me")),
    Case(
        "DELETE",
        "/api/users/me",
        (409, 200, 200, 200, 200, 401),
        at("/api/users/me"),
        fresh=True,
        state=api("/api/users/me", "/api/workspaces/{a}"),
    ),
    Case("GET", "/api/users/{userId}", READ_A, at("/api/users/{member_user}")),
    Case(
        "PUT",
        "/api/users/{userId}",
        (403, 403, 200, 403, 403, 401),
        at("/api/users/{member_user}", lambda v: {"name": f"Renamed by {v['actor']}"}),
        state=api("/api/users/me", by="member"),
    ),
    Case(
        "POST",
        "/api/workspaces/create",
        (201, 201, 201, 201, 201, 401),
        at("/api/workspaces/create", lambda v: {"workspaceName": f"Another {v['actor']}"}),
        state=rows_of_the_world,
    ),
    Case("GET", "/api/workspaces/all", SIGNED_IN, at("/api/workspaces/all")),
    Case(
        "GET",
        "/api/workspaces/public/{workspaceName}",
        SIGNED_IN,
        at("/api/workspaces/public/no-such-name-anywhere"),
    ),
    Case("GET", WS, READ_A, at("/api/workspaces/{a}")),
    Case(
        "PUT",
        "/api/workspaces/ids/{workspaceId}",
        MANAGE_A,
        at(
            "/api/workspaces/ids/{a}",
            lambda v: {"workspaceDescription": f"changed by {v['actor']}"},
        ),
        state=WORKSPACE,
    ),
    Case(
        "DELETE",
        WS,
        (200, 403, 403, 404, 404, 401),
        at("/api/workspaces/{a}"),
        fresh=True,
        state=WORKSPACE,
    ),
    Case(
        "POST",
        "/api/workspaces/default",
        READ_A,
        at("/api/workspaces/default", lambda v: {"workspaceId": v["a"]}),
        state=rows_of_the_world,  # whose default is which workspace
    ),
    Case("GET", WS + "/settings", READ_A, at("/api/workspaces/{a}/settings")),
    Case(
        "PUT",
        WS + "/settings",
        MANAGE_A,
        at("/api/workspaces/{a}/settings", {"requiresApproval": False}),
        fresh=True,
        state=WORKSPACE,
    ),
    Case(
        "GET",
        WS + "/validate-member/{userId}",
        READ_A,
        at("/api/workspaces/{a}/validate-member/{member_user}"),
    ),
    Case("GET", WS + "/members", READ_A, at("/api/workspaces/{a}/members")),
    Case(
        "POST",
        WS + "/members/invite",
        (201, 201, 403, 404, 404, 401),
        at("/api/workspaces/{a}/members/invite", lambda v: {"email": v["email"]}),
        prepare=a_guest,
        fresh=True,
        state=PEOPLE,
    ),
    Case(
        "PUT",
        WS + "/members/{memberId}/role",
        MANAGE_A,
        at("/api/workspaces/{a}/members/{member}/role", {"roleName": "ADMIN"}),
        prepare=member_ids,
        fresh=True,
        state=PEOPLE,
    ),
    Case(
        "DELETE",
        WS + "/members/{memberId}",
        (200, 200, 200, 404, 404, 401),
        at("/api/workspaces/{a}/members/{member}"),
        prepare=member_ids,
        fresh=True,
        state=PEOPLE,
    ),
    Case(
        "POST",
        "/api/workspaces/join-requests",
        (409, 409, 409, 201, 201, 401),
        at("/api/workspaces/join-requests", lambda v: {"workspaceId": v["a"]}),
        discloses=True,
        state=PEOPLE,
    ),
    Case(
        "GET",
        WS + "/joinRequests",
        MANAGE_A,
        at("/api/workspaces/{a}/joinRequests"),
        prepare=a_pending_request,
    ),
    Case(
        "GET",
        WS + "/pendingMembers",
        MANAGE_A,
        at("/api/workspaces/{a}/pendingMembers"),
        prepare=a_pending_request,
    ),
    Case(
        "PUT",
        WS + "/joinRequests/{requestId}",
        MANAGE_A,
        at("/api/workspaces/{a}/joinRequests/{request}", {"status": "APPROVED"}),
        prepare=a_pending_request,
        fresh=True,
        state=PEOPLE,
    ),
    Case(
        "POST",
        WS + "/members/{userId}/approve",
        MANAGE_A,
        at("/api/workspaces/{a}/members/{joiner}/approve"),
        prepare=a_pending_request,
        fresh=True,
        state=PEOPLE,
    ),
    Case(
        "POST",
        WS + "/members/{userId}/reject",
        MANAGE_A,
        at("/api/workspaces/{a}/members/{joiner}/reject"),
        prepare=a_pending_request,
        fresh=True,
        state=PEOPLE,
    ),
    Case(
        "POST",
        "/api/profiles",
        (409, 409, 409, 404, 404, 401),
        at("/api/profiles", lambda v: {"workspaceId": v["a"], "nickName": f"Nick {v['actor']}"}),
        state=rows_of_the_world,  # the profiles of A
    ),
    Case("GET", "/api/profiles/me", READ_A, at("/api/profiles/me", X_Workspace_Id="{a}")),
    Case(
        "PUT",
        "/api/profiles/me",
        READ_A,
        at(
            "/api/profiles/me",
            lambda v: {"nickName": f"Nick {v['actor']}"},
            X_Workspace_Id="{a}",
        ),
        state=rows_of_the_world,
    ),
    Case("GET", "/api/profiles/all/me", SIGNED_IN, at("/api/profiles/all/me")),
    Case(
        "GET",
        "/api/profiles/workspace/{workspaceId}/user/{userId}",
        READ_A,
        at("/api/profiles/workspace/{a}/user/{member_user}"),
    ),
    Case(
        "DELETE",
        "/api/profiles/workspace/{workspaceId}",
        READ_A,
        at("/api/profiles/workspace/{a}"),
        state=rows_of_the_world,
    ),
    Case(
        "POST",
        "/api/profiles/me/image/presigned-url",
        SIGNED_IN,
        at(
            "/api/profiles/me/image/presigned-url",
            {"fileName": "a.png", "contentType": "image/png", "fileSize": 10},
        ),
        state=rows_of_the_world,  # the uploads of the world's people
    ),
    Case(
        "POST",
        "/api/profiles/me/image/attachment",
        (201, 404, 404, 404, 404, 401),
        at(
            "/api/profiles/me/image/attachment",
            lambda v: {
                "fileKey": v["key"],
                "fileName": "me.png",
                "contentType": "image/png",
                "fileSize": len(PNG),
            },
        ),
        prepare=an_uploaded_image,
        state=rows_of_the_world,
    ),
    Case(
        "PUT",
        "/api/profiles/me/image",
        (200, 403, 403, 404, 404, 401),
        at(
            "/api/profiles/me/image",
            lambda v: {"attachmentId": v["attachment"]},
            X_Workspace_Id="{a}",
        ),
        prepare=an_uploaded_image,
        state=rows_of_the_world,
    ),
]


@pytest.fixture(scope="module")
async def matrix_client(environment: Environment, s3_server: Any) -> AsyncIterator[Client]:
    """The user app, once for the module (each row builds its own world in it)."""
    async with in_process(environment, "user", **s3_server.settings()) as opened:
        yield opened


@pytest.fixture(scope="module")
async def user_db(environment: Environment) -> AsyncIterator[Db]:
    """The user database, for rows no API shows."""
    async with await psycopg.AsyncConnection.connect(
        environment.databases["user"], autocommit=True
    ) as conn:
        yield conn


async def test_every_route_has_a_row(matrix_client: Client) -> None:
    check_routes_covered(matrix_client.app, CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
async def test_matrix(matrix_client: Client, user_db: Db, issuer: TokenIssuer, case: Case) -> None:
    await check_case(
        matrix_client,
        case,
        actors=ACTORS,
        new_world=lambda: build_world(matrix_client, issuer),
        clients=(matrix_client, issuer, user_db),
    )
